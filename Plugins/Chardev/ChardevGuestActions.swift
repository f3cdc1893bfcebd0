import QMPPluginKit
import QMPWire

/// What the simulated guest does with its character devices: print lines
/// on a console, open and close virtio serial ports, and boot.
extension ChardevPlugin {
    /// Writes `text` as lines (CR LF) to a chardev, the first serial
    /// console by default.
    func guestConsoleWrite(_ args: QAPI.ConsoleWriteGuestAction) -> Result<JSONValue, QMPError> {
        let target: Chardev
        if let id = args.chardev {
            guard let found = chardev(id) else { return .failure(.generic("Chardev '\(id)' not found")) }
            target = found
        } else {
            guard let first = serialConsole else { return .failure(.generic("the VM has no serial console")) }
            target = first
        }
        let text = args.text
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
        target.write(Array((lines.joined(separator: "\r\n") + "\r\n").utf8))
        return .success(.object([:]))
    }

    /// The guest opens or closes a virtio serial port: `frontend-open`
    /// follows (not for consoles, which are always open) and, for a port
    /// with an id, VSERPORT_CHANGE (the host throttles it per id).
    func guestVserportOpen(_ args: QAPI.VserportOpenGuestAction) -> Result<JSONValue, QMPError> {
        let id = args.port
        let open = args.open
        guard let port = ports.first(where: { $0.id == id }) else { return .failure(.deviceNotFound(id)) }
        port.guestOpen = open
        if !port.isConsole, let chardevID = port.chardevID { chardev(chardevID)?.frontend?.isOpen = open }
        vm.emit("VSERPORT_CHANGE", ["id": .string(id), "open": .bool(open)])
        return .success(.object([:]))
    }

    /// The first configured serial console.
    var serialConsole: Chardev? { serialIDs.first.flatMap { chardev($0) } }

    /// Boots when the VM starts running for the first time and after a
    /// reset (which goes through prelaunch).
    func bootIfStarting(_ state: String) {
        defer { lastRunState = state }
        guard bootLog, state == "running", !hasBooted || lastRunState == "prelaunch" else { return }
        hasBooted = true
        serialConsole?.write(BootLog.bytes(hostname: vm.name))
    }
}
