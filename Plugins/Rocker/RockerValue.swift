import QMPPluginKit
import QMPWire

/// Narrowing the schema's typed members to the widths the switch keeps.
enum RockerValue {
    /// A typed member (generated code reads every QAPI uintN as UInt64; the
    /// host has range-checked it) as the width the switch keeps.
    static func narrow<T: FixedWidthInteger & UnsignedInteger>(_ value: UInt64?, _ key: String, as: T.Type) throws(RockerFault) -> T? {
        guard let value else { return nil }
        guard let fitted = T(exactly: value) else { throw RockerFault.invalid("'\(key)' out of range") }
        return fitted
    }

    static func mac(_ text: String?, _ key: String) throws(RockerFault) -> MACAddress? {
        guard let text else { return nil }
        guard let mac = MACAddress(parsing: text) else { throw RockerFault.invalid("'\(key)' is not a MAC address") }
        return mac
    }
}

/// Why the switch refused what its guest driver asked: QEMU's rocker
/// returns these as negative ROCKER_E* codes in the command descriptor.
enum RockerFault: Error, Equatable {
    case invalid(String)
    case exists(String)
    case notFound(String)
    case notSupported(String)

    /// The text of a refused guest action: "rocker sw1: <what> (-ROCKER_EEXIST)".
    func message(switch name: String) -> String {
        switch self {
        case .invalid(let what): return "rocker \(name): \(what) (-ROCKER_EINVAL)"
        case .exists(let what): return "rocker \(name): \(what) already exists (-ROCKER_EEXIST)"
        case .notFound(let what): return "rocker \(name): \(what) not found (-ROCKER_ENOENT)"
        case .notSupported(let what): return "rocker \(name): \(what) not supported (-ROCKER_ENOTSUP)"
        }
    }
}
