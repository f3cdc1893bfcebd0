/// One decoded QMP request.
public struct QMPRequest: Sendable {
    public var execute: String
    public var arguments: JSONObject?
    /// Echoed verbatim in the reply, whatever JSON it is.
    public var id: JSONValue?
    /// Sent as `exec-oob` (only when the client enabled the `oob` capability).
    public var isOOB: Bool
    /// The `arguments` object's bytes as the client sent them, followed by
    /// a NUL (not part of the text), when the parser read the request on
    /// its one-pass path (`JSONStreamParser.feedMessages(_:while:)` gives
    /// them): what a plugin built for ABI 2 gets instead of the host's text.
    public var argumentsText: [UInt8]?
    /// `execute`'s number in the command table of the host the session
    /// read it for (`CommandNameTable.entry(bytes:)`, through the host),
    /// so that host's dispatch need not look the name up again
    /// (`CommandNameTable.number(of:hint:)`, which checks it); nil when the
    /// request was decoded the full way or the host did not know the name.
    public var commandNumber: Int?

    public init(execute: String, arguments: JSONObject? = nil, id: JSONValue? = nil, isOOB: Bool = false) {
        self.execute = execute
        self.arguments = arguments
        self.id = id
        self.isOOB = isOOB
    }

    /// Every member at once (`ScannedRequest.request(knownAs:)`).
    @inline(__always)
    init(execute: String, arguments: JSONObject?, id: JSONValue?, isOOB: Bool, argumentsText: [UInt8]?, commandNumber: Int?) {
        self.execute = execute
        self.arguments = arguments
        self.id = id
        self.isOOB = isOOB
        self.argumentsText = argumentsText
        self.commandNumber = commandNumber
    }
}

/// A request QEMU would refuse before looking up its command, with the `id`
/// to echo (QEMU echoes it whenever the input was an object with an `id`).
public struct QMPRequestError: Error, Sendable {
    public var error: QMPError
    public var id: JSONValue?

    public init(error: QMPError, id: JSONValue? = nil) {
        self.error = error
        self.id = id
    }
}

extension QMPRequest {
    /// qapi/qmp-dispatch.c's `qmp_dispatch_check_obj`: the members are
    /// checked in the order QEMU walks its QDict, so with several problems
    /// the same one is reported.
    public static func decode(_ value: JSONValue, oobEnabled: Bool) -> Result<QMPRequest, QMPRequestError> {
        guard case .object(let object) = value else {
            return .failure(QMPRequestError(error: .generic("QMP input must be a JSON object"), id: nil))
        }
        if let request = plainRequest(object) { return .success(request) }
        let id = object["id"]
        func reject(_ text: String) -> Result<QMPRequest, QMPRequestError> {
            .failure(QMPRequestError(error: .generic(text), id: id))
        }
        var command: String?
        var commandKey = ""
        var arguments: JSONObject?
        let problem: String? = withCheckOrder(of: object) { order in
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

extension QMPRequest {
    /// The request clients send, without looking at QEMU's member order:
    /// `execute` (a string), `arguments` (an object) and `id`, nothing else.
    /// With only these members (the parser has refused duplicate keys) no
    /// check of `decode` can fail, so the order it walks them in cannot
    /// matter; anything else (`exec-oob`, a wrong type, an unknown member)
    /// returns nil and takes the ordered walk.
    @inline(__always)
    static func plainRequest(_ object: JSONObject) -> QMPRequest? {
        var command: String?
        var arguments: JSONObject?
        var id: JSONValue?
        for (key, member) in object.members {
            switch key {
            case "execute":
                guard case .string(let name) = member else { return nil }
                command = name
            case "arguments":
                guard case .object(let args) = member else { return nil }
                arguments = args
            case "id":
                id = member
            default:
                return nil
            }
        }
        guard let command else { return nil }
        return QMPRequest(execute: command, arguments: arguments, id: id, isOOB: false)
    }

    /// The members `decode` must look at, in QEMU's QDict order: all of
    /// them for objects of QMP's usual size (allocation-free), else the
    /// four it knows and the first unknown one, found in one pass. Every
    /// unknown member is an error and the walk stops at the first error,
    /// so no member after that one matters; a hostile request with 500,000
    /// members is not sorted.
    static func withCheckOrder<R>(of object: JSONObject, _ body: (UnsafeBufferPointer<Int>) -> R) -> R {
        let members = object.members
        guard members.count > 32 else { return QDictOrder.withWriteOrder(of: object, body) }
        var picked: [(bucket: UInt32, index: Int)] = []
        var firstUnknown: (bucket: UInt32, index: Int)?
        for (index, member) in members.enumerated() {
            let entry = (bucket: QDictOrder.bucket(of: member.key), index: index)
            switch member.key {
            case "execute", "exec-oob", "arguments", "id":
                picked.append(entry)
            default:
                // Earlier in QDict order: a lower bucket, or in the same
                // bucket the later-inserted member.
                if let first = firstUnknown, first.bucket < entry.bucket || (first.bucket == entry.bucket && first.index > entry.index) {
                    continue
                }
                firstUnknown = entry
            }
        }
        if let firstUnknown { picked.append(firstUnknown) }
        let order = picked.sorted { $0.bucket != $1.bucket ? $0.bucket < $1.bucket : $0.index > $1.index }.map(\.index)
        return order.withUnsafeBufferPointer(body)
    }
}
