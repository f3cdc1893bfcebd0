import QMPWire

/// A `-chardev backend,id=ID,...` option as `chardev-add` arguments
/// (`ChardevBackend` of QEMU's qapi/char.json).
enum ChardevBackend {
    static func arguments(id: String, _ opts: QemuOpts) throws(EmulatorError) -> JSONObject {
        let backend = opts["backend"] ?? ""
        var data: JSONObject = [:]
        switch backend {
        case "pty", "null", "stdio", "vc":
            break
        case "file":
            guard let path = opts["path"] else { throw EmulatorError("-chardev \(backend),id=\(id): Parameter 'path' is missing") }
            data["out"] = .string(path)
            if let append = opts.bool("append") { data["append"] = .bool(append) }
        case "ringbuf", "memory":
            if let size = opts["size"], let n = Int64(size) { data["size"] = .int(n) }
        case "socket":
            if let fd = opts["fd"] {
                data["addr"] = ["type": "fd", "data": ["str": .string(fd)]]
            } else if let path = opts["path"] {
                data["addr"] = ["type": "unix", "data": ["path": .string(path)]]
            } else if let host = opts["host"], let port = opts["port"] {
                data["addr"] = ["type": "inet", "data": ["host": .string(host), "port": .string(port)]]
            } else {
                throw EmulatorError("-chardev socket,id=\(id): chardev: socket: no address given")
            }
            for key in ["server", "wait"] { if let b = opts.bool(key) { data[key] = .bool(b) } }
        default:
            throw EmulatorError("-chardev \(backend),id=\(id): 'backend' '\(backend)' is not simulated")
        }
        let type = backend == "stdio" || backend == "vc" ? "null" : (backend == "memory" ? "ringbuf" : backend)
        return ["id": .string(id), "backend": ["type": .string(type), "data": .object(data)]]
    }
}
