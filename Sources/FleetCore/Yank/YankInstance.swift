import QMPWire

/// Something `yank` can cut loose, as QEMU 7.2's `YankInstance` names it:
/// a socket chardev (the QMP monitor's own, `compat_monitor0`, included),
/// a block node on the network (NBD), or the migration stream.
public enum YankInstance: Hashable, Sendable {
    case blockNode(String)
    case chardev(String)
    case migration

    /// The chardev QEMU makes for its `index`-th `-qmp` option.
    public static func monitor(_ index: Int) -> YankInstance { .chardev("compat_monitor\(index)") }

    /// `{"type": "chardev", "id": "x"}`, the way `query-yank` lists it.
    public var json: JSONValue {
        switch self {
        case .blockNode(let name): return ["type": "block-node", "node-name": .string(name)]
        case .chardev(let id): return ["type": "chardev", "id": .string(id)]
        case .migration: return ["type": "migration"]
        }
    }

    /// From `yank`'s checked arguments (the schema has checked the shape).
    public init?(_ value: JSONValue) {
        switch value["type"]?.stringValue {
        case "block-node": guard let name = value["node-name"]?.stringValue else { return nil }; self = .blockNode(name)
        case "chardev": guard let id = value["id"]?.stringValue else { return nil }; self = .chardev(id)
        case "migration": self = .migration
        default: return nil
        }
    }
}
