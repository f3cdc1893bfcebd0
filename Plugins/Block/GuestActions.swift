import QMPPluginKit
import QMPWire

/// What the simulated guest does by itself: disk I/O (statistics, dirty
/// bitmaps, write thresholds), tray locking and eject requests, I/O errors.
extension BlockPlugin {
    /// A request's size when the action names none.
    static let defaultRequestBytes: Int64 = 4096

    static func registerGuestActions(_ plugin: PluginRegistry<BlockPlugin>) {
        plugin.guestAction(QAPI.WriteGuestAction.self) { this, args in
            this.guestIO(device: args.device, offset: args.offset, bytes: args.bytes, write: true)
        }
        plugin.guestAction(QAPI.ReadGuestAction.self) { this, args in
            this.guestIO(device: args.device, offset: args.offset, bytes: args.bytes, write: false)
        }
        plugin.guestAction(QAPI.LockTrayGuestAction.self) { this, args in this.guestTray(args.device) { $0.locked = true } }
        plugin.guestAction(QAPI.UnlockTrayGuestAction.self) { this, args in this.guestTray(args.device) { $0.locked = false } }
        plugin.guestAction(QAPI.EjectRequestGuestAction.self) { this, args in
            this.guestBackend(args.device).flatMap { i in
                guard this.graph.backends[i].hasTray else { return .failure(.generic("Device has no tray")) }
                this.graph.backends[i].locked = false
                if !this.graph.backends[i].trayOpen { this.moveTray(i, open: true) }
                return .success([:])
            }
        }
        plugin.guestAction(QAPI.IoErrorGuestAction.self) { this, args in this.guestIOError(args) }
        plugin.guestAction(QAPI.JobErrorGuestAction.self) { this, args in
            this.anyJob(args.job).flatMap { this.failJob($0, operation: args.operation ?? "write") }
        }
    }

    /// A backend by name or by its device's id.
    func guestBackend(_ name: String) -> Result<Int, QMPError> {
        if let i = graph.backendIndex(named: name) ?? graph.backends.firstIndex(where: { $0.device?.id == name }) { return .success(i) }
        return .failure(.deviceNotFound(name))
    }

    func guestTray(_ device: String, _ change: (inout BlockBackend) -> Void) -> Result<JSONValue, QMPError> {
        guestBackend(device).flatMap { i in
            guard graph.backends[i].hasTray else { return .failure(.generic("Device has no tray")) }
            change(&graph.backends[i])
            return .success([:])
        }
    }

    /// A guest read or write (`write` and `read` share their arguments).
    func guestIO(device: String, offset: Int64?, bytes: Int64?, write: Bool) -> Result<JSONValue, QMPError> {
        guestBackend(device).flatMap { i in
            guard let root = graph.backends[i].root, let node = graph.node(root), !(graph.backends[i].trayOpen) else {
                return .failure(.generic("No medium"))
            }
            let bytes = max(0, bytes ?? BlockPlugin.defaultRequestBytes)
            let offset = max(0, offset ?? (write ? node.wrHighestOffset : 0))
            // Both are client integers up to 2^63-1: compare without adding them.
            guard bytes <= node.virtualSize, offset <= node.virtualSize - bytes else {
                return .failure(.generic("Request beyond the end of the disk"))
            }
            let now = nowNanoseconds
            // The counters wrap as QEMU's uint64_t BlockAcctStats do: a
            // trap here would end every VM of the process.
            if !write {
                graph.backends[i].stats.rdBytes &+= bytes
                graph.backends[i].stats.rdOperations &+= 1
                graph.backends[i].stats.rdTotalTimeNs &+= BlockDeviceStats.simulatedLatencyNs
                graph.backends[i].stats.lastAccessNs = now
                return .success([:])
            }
            if node.readOnly || graph.backends[i].readOnly { return .failure(.generic("Device is read-only")) }
            graph.backends[i].stats.wrBytes &+= bytes
            graph.backends[i].stats.wrOperations &+= 1
            graph.backends[i].stats.wrTotalTimeNs &+= BlockDeviceStats.simulatedLatencyNs
            graph.backends[i].stats.lastAccessNs = now
            let end = offset + bytes
            for name in [root, node.file].compactMap({ $0 }) {
                guard var n = graph.node(name) else { continue }
                n.wrHighestOffset = max(n.wrHighestOffset, end)
                for b in n.bitmaps.indices { n.bitmaps[b].mark(offset: offset, bytes: bytes) }
                if name == root { n.allocated = bytes >= n.virtualSize - min(n.allocated, n.virtualSize) ? n.virtualSize : n.allocated + bytes }
                if n.writeThreshold > 0 && UInt64(end) > n.writeThreshold {
                    let threshold = Int64(bitPattern: n.writeThreshold)
                    n.writeThreshold = 0
                    graph[node: name] = n
                    vm.emit("BLOCK_WRITE_THRESHOLD", ["node-name": .string(name), "amount-exceeded": .int(end - threshold), "write-threshold": .int(threshold)])
                    continue
                }
                graph[node: name] = n
            }
            return .success([:])
        }
    }

    /// A failed guest request with the device's error policy: `report`
    /// (reads), `enospc` (writes: stop on ENOSPC, else report), `stop`, `ignore`.
    func guestIOError(_ args: QAPI.IoErrorGuestAction) -> Result<JSONValue, QMPError> {
        guestBackend(args.device).flatMap { i in
            let operation = args.operation ?? "write"
            guard operation == "read" || operation == "write" else { return .failure(.generic("operation must be read or write")) }
            let nospace = args.nospace ?? false
            let policy = args.action ?? (operation == "write" ? "enospc" : "report")
            let action = policy == "enospc" ? (nospace ? "stop" : "report") : policy
            guard ["report", "ignore", "stop"].contains(action) else { return .failure(.generic("action must be report, ignore, stop or enospc")) }
            if operation == "write" { graph.backends[i].stats.failedWrOperations += 1 } else { graph.backends[i].stats.failedRdOperations += 1 }
            var data: JSONObject = ["device": .string(graph.backends[i].name)]
            if let root = graph.backends[i].root { data["node-name"] = .string(root) }
            data["operation"] = .string(operation)
            data["action"] = .string(action)
            data["nospace"] = .bool(nospace)
            data["reason"] = .string(nospace ? "No space left on device" : "Input/output error")
            if action == "stop" { graph.backends[i].ioStatus = nospace ? "nospace" : "failed" }
            vm.emit("BLOCK_IO_ERROR", data)
            if action == "stop" && vm.isRunning { vm.stop(reason: "io-error") }
            return .success([:])
        }
    }
}
