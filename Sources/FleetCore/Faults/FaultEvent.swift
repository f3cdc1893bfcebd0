import QMPWire

/// An event a fault makes the VM emit, with what QEMU 7.2 does around it.
public enum FaultEvent: Sendable, Equatable {
    /// A guest request on a drive failed: the block plugin's `io-error`
    /// guest action, so the event has QEMU's data (`device`, `node-name`,
    /// `operation`, `action`, `nospace`, `reason`), the drive's failed-I/O
    /// statistics count it, and a `stop` policy stops the VM (`io-error`).
    case blockIOError(device: String, operation: String?, nospace: Bool?, policy: String?)
    /// The guest panicked: GUEST_PANICKED and then what the VM's panic
    /// action says (`set-action`), as the `guest` guest action `panic` does.
    case guestPanicked
    /// A migration failed: `MIGRATION {"status": "failed"}`.
    case migrationFailed

    static func parse(_ r: ConfigReader) throws(FleetError) -> FaultEvent {
        guard let name = try r.string("event") else { throw r.error("an event fault needs the event", key: "event") }
        let driveKeys: Set<String> = ["device", "operation", "nospace", "io-action"]
        if name != "block-io-error", let stray = Set(try r.object().keys).intersection(driveKeys).sorted().first {
            throw r.error("only for event 'block-io-error'", key: stray)
        }
        switch name {
        case "block-io-error":
            guard let device = try r.string("device") else { throw r.error("a block-io-error needs the drive", key: "device") }
            let operation = try r.string("operation")
            if let operation, operation != "read", operation != "write" {
                throw r.error("expected read or write", key: "operation")
            }
            let policy = try r.string("io-action")
            if let policy, !["report", "ignore", "stop", "enospc"].contains(policy) {
                throw r.error("expected report, ignore, stop or enospc", key: "io-action")
            }
            return .blockIOError(device: device, operation: operation, nospace: try r.bool("nospace"), policy: policy)
        case "guest-panicked":
            return .guestPanicked
        case "migration-failed":
            return .migrationFailed
        default:
            throw r.error("expected block-io-error, guest-panicked or migration-failed", key: "event")
        }
    }

    /// `query-faults`' keys for it.
    var info: JSONObject {
        switch self {
        case .blockIOError(let device, let operation, let nospace, let policy):
            var o: JSONObject = ["event": "block-io-error", "device": .string(device)]
            if let operation { o["operation"] = .string(operation) }
            if let nospace { o["nospace"] = .bool(nospace) }
            if let policy { o["io-action"] = .string(policy) }
            return o
        case .guestPanicked: return ["event": "guest-panicked"]
        case .migrationFailed: return ["event": "migration-failed"]
        }
    }

    /// Emits it on `vm`.
    func emit(on vm: VM) {
        switch self {
        case .blockIOError(let device, let operation, let nospace, let policy):
            guard let block = vm.plugins.first(where: { $0.library.name == "block" }),
                  let action = block.library.guestActions["io-error"] else {
                vm.logger.warning("fault: block-io-error on '\(device)' needs the block plugin")
                return
            }
            var arguments: JSONObject = ["device": .string(device)]
            if let operation { arguments["operation"] = .string(operation) }
            if let nospace { arguments["nospace"] = .bool(nospace) }
            if let policy { arguments["action"] = .string(policy) }
            block.invoke(action.handler, command: "fault block-io-error", arguments: arguments) { [weak vm] result in
                if case .failure(let error) = result { vm?.logger.warning("fault: block-io-error on '\(device)': \(error.desc)") }
            }
        case .guestPanicked:
            vm.guestPanic()
        case .migrationFailed:
            vm.events.emit("MIGRATION", data: ["status": "failed"])
        }
    }
}
