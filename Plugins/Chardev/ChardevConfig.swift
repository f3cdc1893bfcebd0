import QMPPluginKit
import QMPWire

/// The plugin's section of a VM's config.
///
/// ```yaml
/// plugins:
///   chardev:
///     serial:                     # default: [{id: serial0, backend: pty}]
///       - {id: serial0, backend: socket, path: /tmp/vm0-serial.sock}
///     chardevs:                   # as chardev-add takes them
///       - {id: log0, backend: {type: ringbuf, data: {size: 4096}}}
///     boot-log: true              # write a boot log ending in "login:" to the first serial
/// ```
/// A serial entry's `backend` is pty, socket (unix server at `path`), file
/// (`path`), ringbuf (`size`) or null.
struct ChardevConfig {
    struct Serial {
        var id: String
        var backend: QAPI.ChardevBackend
    }

    static let defaultSerial = Serial(id: "serial0", backend: QAPI.ChardevBackend(type: .pty, variant: .pty(.init(data: .init()))))

    var serials: [Serial] = [ChardevConfig.defaultSerial]
    var chardevs: [(id: String, backend: QAPI.ChardevBackend)] = []
    var bootLog = true

    init(_ config: JSONValue) throws(PluginError) {
        guard let section = try PluginConfig.section(config, plugin: "chardev", keys: .expected(["serial", "chardevs", "boot-log"]),
                                                     notAMapping: "expected a mapping with 'serial', 'chardevs', 'boot-log'") else { return }
        if let on = try PluginConfig.bool(section, "boot-log", else: "chardev: 'boot-log' must be true or false") { bootLog = on }
        if let list = section["serial"] {
            serials = []
            for (i, entry) in (list.arrayValue ?? []).enumerated() {
                guard let object = entry.objectValue else { throw PluginError("chardev: serial[\(i)] must be a mapping") }
                serials.append(try ChardevConfig.serial(object, index: i))
            }
        }
        for (i, entry) in (section["chardevs"]?.arrayValue ?? []).enumerated() {
            guard let id = entry["id"]?.stringValue, let backend = entry["backend"]?.objectValue else {
                throw PluginError("chardev: chardevs[\(i)] needs 'id' and 'backend' as chardev-add takes them")
            }
            chardevs.append((id, try ChardevConfig.decode(backend, "chardev: chardevs[\(i)]")))
        }
    }

    private static func serial(_ o: JSONObject, index: Int) throws(PluginError) -> Serial {
        let id = o["id"]?.stringValue ?? "serial\(index)"
        let kind = o["backend"]?.stringValue ?? "pty"
        var data: JSONObject = [:]
        switch kind {
        case "pty", "null": break
        case "socket":
            guard let path = o["path"]?.stringValue else { throw PluginError("chardev: serial '\(id)': socket needs 'path'") }
            data = ["addr": ["type": "unix", "data": ["path": .string(path)]], "server": true, "wait": false]
        case "file":
            guard let path = o["path"]?.stringValue else { throw PluginError("chardev: serial '\(id)': file needs 'path'") }
            data = ["out": .string(path)]
        case "ringbuf":
            if let size = o["size"] { data["size"] = size }
        default:
            throw PluginError("chardev: serial '\(id)': backend must be pty, socket, file, ringbuf or null")
        }
        return Serial(id: id, backend: try decode(["type": .string(kind), "data": .object(data)], "chardev: serial '\(id)'"))
    }

    /// A backend as chardev-add's generated decoder reads it; its text
    /// names the member that is missing or of the wrong type.
    static func decode(_ backend: JSONObject, _ place: String) throws(PluginError) -> QAPI.ChardevBackend {
        do {
            return try QAPI.ChardevBackend(qapiMembers: backend, at: QAPIPath.root.member("backend"))
        } catch {
            throw PluginError("\(place): \(error.desc)")
        }
    }
}
