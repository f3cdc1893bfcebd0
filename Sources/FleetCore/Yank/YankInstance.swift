import QAPIRuntime
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

    /// From `yank`'s typed arguments (the generated union).
    init(_ instance: QAPI.YankInstance) {
        switch instance.variant {
        case .blockNode(let branch)?: self = .blockNode(branch.nodeName)
        case .chardev(let branch)?: self = .chardev(branch.id)
        case nil: self = .migration
        }
    }
}
