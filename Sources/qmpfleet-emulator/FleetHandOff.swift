import FleetCore
import QMPWire
#if canImport(Glibc)
import Glibc
#endif

/// Mode (a): a fleet runs (`QMPFLEET_CONTROL=<socket-dir>/fleet.qmp`), so
/// the VM lives there. The listening monitor socket libvirt passed down goes
/// to the fleet with `vm-attach-monitor` (SCM_RIGHTS, as `getfd`), and this
/// process stays as "the VM's process": it holds the control connection
/// open until the fleet closes it (the VM ended), and dies with it (the
/// fleet then destroys the VM). Blocking I/O: this process does nothing else.
struct FleetHandOff {
    /// The longest control reply line we accept (the VM's info and chardevs).
    static let replyLimit = 1 << 20
    let socket: Int32
    private var pending: [UInt8] = []

    init(controlPath: String) throws(EmulatorError) {
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw EmulatorError("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = Array(controlPath.utf8)
        guard path.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw EmulatorError("QMPFLEET_CONTROL: path too long")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in path.enumerated() { raw[i] = byte }
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw EmulatorError("cannot connect to the fleet at \(controlPath): \(reason)")
        }
        socket = fd
        _ = try readMessage()  // greeting
        _ = try execute(["execute": "qmp_capabilities"])
    }

    /// Creates the VM in the fleet; returns its chardevs (query-chardev).
    mutating func attach(_ plan: EmulatorPlan, vcpuThreadIDs: [Int]) throws(EmulatorError) -> [JSONValue] {
        var config = plan.entry
        // Without -name (libvirt's capability probe) the fleet still needs
        // a unique name: several probes may run at once.
        let name = config["guest-name"] == nil ? .string("qemu-\(getpid())") : config["name"] ?? "qemu"
        config["name"] = nil
        var arguments: JSONObject = [
            "name": name, "config": .object(config),
            "commands": CommandLineReplay(steps: plan.commands.map {
                CommandLineReplay.Step(command: $0.name, arguments: $0.arguments, option: $0.option)
            }).json,
            "vcpu-thread-ids": .array(vcpuThreadIDs.map { .int(Int64($0)) }),
        ]
        var fd: Int32?
        var ownSocket: Int32?
        for monitor in plan.monitors {
            switch monitor {
            case .listeningFD(let n) where fd == nil: fd = n
            case .path(let path) where fd == nil:
                // This process binds the socket, as QEMU would, with this
                // user's rights: the fleet takes a monitor path only inside
                // its own socket directory, never one a client names.
                let listening = try Self.listen(at: path)
                fd = listening
                ownSocket = listening
                boundPaths.append(path)
            case .path(let path) where arguments["monitor-path"] == nil: arguments["monitor-path"] = .string(path)
            default: throw EmulatorError("a fleet VM takes one inherited monitor and one monitor path")
            }
        }
        let reply: JSONValue
        do {
            reply = try execute(["execute": "vm-attach-monitor", "arguments": .object(arguments)], passing: fd)
        } catch {
            if let ownSocket { close(ownSocket) }
            removeBoundSockets()
            throw error
        }
        if let fd { close(fd) }  // the fleet has its own copy now
        return reply["chardevs"]?.arrayValue ?? []
    }

    /// Socket files this process bound for `-qmp unix:PATH`; removed when
    /// the VM ends, as QEMU removes its monitor socket on exit.
    private(set) var boundPaths: [String] = []

    func removeBoundSockets() {
        for path in boundPaths { unlink(path) }
    }

    /// A listening unix socket at `path`, replacing what is there as QEMU's
    /// `unix_listen_saddr` does.
    static func listen(at path: String) throws(EmulatorError) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw EmulatorError("UNIX socket path '\(path)' is too long")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in bytes.enumerated() { raw[i] = byte }
        }
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw EmulatorError("socket: \(String(cString: strerror(errno)))") }
        unlink(path)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0, Glibc.listen(fd, 1) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw EmulatorError("Failed to bind socket to \(path): \(reason)")
        }
        return fd
    }

    /// Blocks until the fleet closes the connection (the VM ended) or a
    /// signal interrupts the wait.
    func waitForEnd() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while read(socket, &buffer, buffer.count) > 0 {}
    }

    private mutating func execute(_ request: JSONValue, passing fd: Int32? = nil) throws(EmulatorError) -> JSONValue {
        var bytes = request.jsonBytes()
        bytes.append(UInt8(ascii: "\n"))
        try send(bytes, fd: fd)
        while true {
            let message = try readMessage()
            if let error = message["error"] { throw EmulatorError(error["desc"]?.stringValue ?? "fleet error") }
            if let value = message["return"] { return value }
        }
    }

    private func send(_ bytes: [UInt8], fd: Int32?) throws(EmulatorError) {
        var sent = 0
        var control = [UInt8](repeating: 0, count: 64)
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { raw -> Int in
                var iov = iovec(iov_base: UnsafeMutableRawPointer(mutating: raw.baseAddress! + sent), iov_len: raw.count - sent)
                var message = msghdr()
                return withUnsafeMutablePointer(to: &iov) { iovPointer in
                    message.msg_iov = iovPointer
                    message.msg_iovlen = 1
                    guard sent == 0, let fd else { return sendmsg(socket, &message, 0) }
                    return control.withUnsafeMutableBytes { controlRaw in
                        message.msg_control = controlRaw.baseAddress
                        message.msg_controllen = Int(MemoryLayout<cmsghdr>.size + 8)
                        let header = controlRaw.baseAddress!.assumingMemoryBound(to: cmsghdr.self)
                        header.pointee.cmsg_level = SOL_SOCKET
                        header.pointee.cmsg_type = Int32(SCM_RIGHTS)
                        header.pointee.cmsg_len = Int(MemoryLayout<cmsghdr>.size + MemoryLayout<Int32>.size)
                        controlRaw.storeBytes(of: fd, toByteOffset: MemoryLayout<cmsghdr>.size, as: Int32.self)
                        return sendmsg(socket, &message, 0)
                    }
                }
            }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw EmulatorError("fleet control socket: \(String(cString: strerror(errno)))") }
            sent += n
        }
    }

    private mutating func readMessage() throws(EmulatorError) -> JSONValue {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            if let end = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = pending[..<end]
                pending.removeSubrange(...end)
                do { return try JSONValue(parsing: line) } catch { throw EmulatorError("fleet control socket: bad reply: \(error)") }
            }
            guard pending.count < Self.replyLimit else { throw EmulatorError("fleet control socket: reply too long") }
            let n = read(socket, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw EmulatorError("the fleet closed its control socket") }
            pending += buffer[0..<n]
        }
    }
}
