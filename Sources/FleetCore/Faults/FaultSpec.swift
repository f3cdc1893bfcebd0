import QMPWire

/// One fault to inject, as `fault-add` or the config's `faults:` section
/// gives it: which VM and command it watches, when it fires and what it
/// does then.
///
/// ```yaml
/// faults:
///   - {id: resize-fails, vm: vm0, command: block_resize, times: 1,
///      action: error, error-class: GenericError, desc: "Could not resize: Input/output error"}
///   - {command: query-status, probability: 0.25, seed: 7, action: delay, delay-ms: 200}
/// ```
///
/// A fault watches the commands clients send; it is armed separately on
/// each VM it covers (its own count and its own generator, seeded from
/// `seed`), so what one VM sees does not depend on the traffic of another.
public struct FaultSpec: Sendable, Equatable {
    /// What a fault does when it fires.
    public enum Action: Sendable, Equatable {
        /// The command is not run; the client gets this error.
        case error(QMPError)
        /// The command runs; its reply leaves this many milliseconds late.
        case delay(milliseconds: UInt64)
        /// The command runs; its reply is never sent (later commands are answered).
        case dropReply
        /// The client's connection is closed; the command is not run.
        case disconnect
        /// The VM emits an event as QEMU would, then the command runs.
        case event(FaultEvent)

        /// The name `fault-add` takes in `action`.
        var name: String {
            switch self {
            case .error: "error"
            case .delay: "delay"
            case .dropReply: "drop-reply"
            case .disconnect: "disconnect"
            case .event: "event"
            }
        }
    }

    /// The id `fault-remove` takes.
    public var id: String
    /// The VM it covers; nil: every VM, those created later too.
    public var vm: String?
    /// The command it watches; nil: every command.
    public var command: String?
    public var action: Action
    /// How many times it fires at most (per VM); nil: no bound.
    public var times: Int?
    /// The chance that a watched command fires it; nil: always.
    public var probability: Double?
    /// Seed of each VM's generator for `probability`.
    public var seed: UInt64 = 0

    /// The longest `delay-ms`: an hour.
    public static let maxDelayMilliseconds = 3_600_000

    /// The keys a fault entry takes (config and `fault-add` alike).
    static let keys: Set<String> = [
        "id", "vm", "command", "action", "error-class", "desc", "delay-ms", "event", "device", "operation", "nospace",
        "io-action", "times", "probability", "seed",
    ]

    /// Reads and range-checks one entry; `defaultID` names it when it has no `id`.
    package static func parse(_ r: ConfigReader, defaultID: String) throws(FleetError) -> FaultSpec {
        try r.checkKeys(keys)
        let id = try r.string("id") ?? defaultID
        guard !id.isEmpty else { throw r.error("must not be empty", key: "id") }
        let action = try parseAction(r)
        var spec = FaultSpec(id: id, vm: try r.string("vm"), command: try r.string("command"), action: action)
        if let times = try r.int("times") {
            guard (1...Int(Int32.max)).contains(times) else { throw r.error("expected 1 to \(Int32.max)", key: "times") }
            spec.times = times
        }
        if let c = try r.child("probability") {
            guard let p = c.value.doubleValue, p >= 0, p <= 1 else { throw c.error("expected a number from 0 to 1") }
            spec.probability = p
        }
        if let seed = try r.child("seed") {
            guard let s = seed.value.int64Value, s >= 0 else { throw seed.error("expected an integer >= 0") }
            guard spec.probability != nil else { throw seed.error("a seed needs a probability") }
            spec.seed = UInt64(s)
        }
        return spec
    }

    private static func parseAction(_ r: ConfigReader) throws(FleetError) -> Action {
        guard let name = try r.string("action") else { throw r.error("missing", key: "action") }
        let extras: [String: Set<String>] = [
            "error": ["error-class", "desc"], "delay": ["delay-ms"], "drop-reply": [], "disconnect": [],
            "event": ["event", "device", "operation", "nospace", "io-action"],
        ]
        guard let allowed = extras[name] else {
            throw r.error("expected one of: \(extras.keys.sorted().joined(separator: ", "))", key: "action")
        }
        let given = Set(try r.object().keys).intersection(extras.values.reduce(into: Set<String>()) { $0.formUnion($1) })
        if let stray = given.subtracting(allowed).sorted().first {
            throw r.error("does not go with action '\(name)'", key: stray)
        }
        switch name {
        case "error":
            let className = try r.string("error-class") ?? QMPErrorClass.genericError.rawValue
            guard let errorClass = QMPErrorClass(rawValue: className) else {
                throw r.error("expected a QMP error class (GenericError, CommandNotFound, DeviceNotActive, DeviceNotFound, KVMMissingCap)", key: "error-class")
            }
            guard let desc = try r.string("desc") else { throw r.error("an error fault needs the error's text", key: "desc") }
            return .error(QMPError(errorClass, desc))
        case "delay":
            guard let ms = try r.int("delay-ms") else { throw r.error("a delay fault needs its milliseconds", key: "delay-ms") }
            guard (0...maxDelayMilliseconds).contains(ms) else {
                throw r.error("expected 0 to \(maxDelayMilliseconds) milliseconds", key: "delay-ms")
            }
            return .delay(milliseconds: UInt64(ms))
        case "drop-reply":
            return .dropReply
        case "disconnect":
            return .disconnect
        default:
            return .event(try FaultEvent.parse(r))
        }
    }

    /// True when the fault is for VM `name` (or for every VM).
    func covers(vm name: String) -> Bool { vm == nil || vm == name }

    /// `query-faults`' description of it (without the firing counts).
    var info: JSONObject {
        var o: JSONObject = ["id": .string(id)]
        if let vm { o["vm"] = .string(vm) }
        if let command { o["command"] = .string(command) }
        o["action"] = .string(action.name)
        switch action {
        case .error(let error):
            o["error-class"] = .string(error.errorClass.rawValue)
            o["desc"] = .string(error.desc)
        case .delay(let ms):
            o["delay-ms"] = .int(Int64(ms))
        case .event(let event):
            for (key, value) in event.info { o[key] = value }
        case .dropReply, .disconnect:
            break
        }
        if let times { o["times"] = .int(Int64(times)) }
        if let probability {
            o["probability"] = .double(probability)
            o["seed"] = .int(Int64(seed))
        }
        return o
    }
}

extension FaultSpec {
    /// The config's `faults:` list: ids unique (an entry without one is
    /// `fault-<index>`), at most `limit` entries.
    static func parseList(_ r: ConfigReader, limit: Int) throws(FleetError) -> [FaultSpec] {
        guard case .array(let entries) = r.value else { throw r.error("expected a list of faults") }
        guard entries.count <= limit else { throw r.error("\(entries.count) faults exceed limits.faults-per-fleet (\(limit))") }
        var specs: [FaultSpec] = []
        var seen = Set<String>()
        for (i, entry) in entries.enumerated() {
            let e = r.element(i, entry)
            let spec = try parse(e, defaultID: "fault-\(i)")
            guard seen.insert(spec.id).inserted else { throw e.error("duplicate fault id '\(spec.id)'", key: "id") }
            specs.append(spec)
        }
        return specs
    }
}
