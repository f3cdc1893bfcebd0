import QMPWire

/// HMP `info cpus`, as QEMU 7.2's `hmp_info_cpus` prints `query-cpus-fast`:
/// one line per vCPU, the monitor's current CPU starred (a
/// `human-monitor-command` without `cpu-index` has the first).
enum CPUInfoText {
    static func text(_ reply: JSONValue, current: Int64?) -> String {
        let cpus = reply.arrayValue ?? []
        let starred = current ?? cpus.first?["cpu-index"]?.int64Value
        return cpus.map { cpu in
            let index = cpu["cpu-index"]?.int64Value ?? 0
            return "\(index == starred ? "*" : " ") CPU #\(index): thread_id=\(cpu["thread-id"]?.int64Value ?? 0)\n"
        }.joined()
    }
}
