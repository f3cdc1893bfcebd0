import FleetCore

extension ProxyPolicy {
    /// Nil when `command` may go upstream, else the error text.
    func refusal(of command: String, vm: String) -> String? {
        if deny.contains(command) {
            return "Command '\(command)' is denied by the policy of VM '\(vm)' (deny list)"
        }
        if readOnly && !command.hasPrefix("query-") && !allow.contains(command) {
            return "Command '\(command)' is denied by the policy of VM '\(vm)' (read-only)"
        }
        return nil
    }
}
