/// One decoded QMP request.
public struct QMPRequest: Sendable {
    public var execute: String
    public var arguments: JSONObject?
    /// Echoed verbatim in the reply, whatever JSON it is.
    public var id: JSONValue?
    /// Sent as `exec-oob` (only when the client enabled the `oob` capability).
    public var isOOB: Bool

    public init(execute: String, arguments: JSONObject? = nil, id: JSONValue? = nil, isOOB: Bool = false) {
        self.execute = execute
        self.arguments = arguments
        self.id = id
        self.isOOB = isOOB
    }
}

/// A request QEMU would refuse before looking up its command, with the `id`
/// to echo (QEMU echoes it whenever the input was an object with an `id`).
public struct QMPRequestError: Error, Sendable {
    public var error: QMPError
    public var id: JSONValue?
}

extension QMPRequest {
    /// qapi/qmp-dispatch.c's `qmp_dispatch_check_obj`: the members are
    /// checked in the order QEMU walks its QDict, so with several problems
    /// the same one is reported.
    public static func decode(_ value: JSONValue, oobEnabled: Bool) -> Result<QMPRequest, QMPRequestError> {
        guard case .object(let object) = value else {
            return .failure(QMPRequestError(error: .generic("QMP input must be a JSON object"), id: nil))
        }
        let id = object["id"]
        func reject(_ text: String) -> Result<QMPRequest, QMPRequestError> {
            .failure(QMPRequestError(error: .generic(text), id: id))
        }
        var command: String?
        var commandKey = ""
        var arguments: JSONObject?
        let problem: String? = QDictOrder.withWriteOrder(of: object) { order in
            for index in order {
                let (key, member) = object.members[index]
                switch key {
                case "execute", "exec-oob":
                    if key == "exec-oob" && !oobEnabled {
                        return "QMP input member 'exec-oob' is unexpected"
                    }
                    guard case .string(let name) = member else {
                        return "QMP input member '\(key)' must be a string"
                    }
                    if command != nil {
                        return "QMP input member '\(key)' clashes with '\(commandKey)'"
                    }
                    command = name
                    commandKey = key
                case "arguments":
                    guard case .object(let args) = member else {
                        return "QMP input member 'arguments' must be an object"
                    }
                    arguments = args
                case "id":
                    continue
                default:
                    return "QMP input member '\(key)' is unexpected"
                }
            }
            return nil
        }
        if let problem { return reject(problem) }
        guard let command else { return reject("QMP input lacks member 'execute'") }
        return .success(QMPRequest(execute: command, arguments: arguments, id: id, isOOB: commandKey == "exec-oob"))
    }
}
