import QMPPluginKit
import QMPWire

/// Reading unsigned numbers the way QEMU's visitors accept them: JSON
/// integers from QMP, or decimal strings from `-device`-style properties.
enum RockerValue {
    static func unsigned(_ value: JSONValue?) -> UInt64? {
        switch value {
        case .int(let i)?: return i >= 0 ? UInt64(i) : nil
        case .uint(let u)?: return u
        case .string(let s)?: return UInt64(s)
        default: return nil
        }
    }

    /// A member that must fit `T` (a QAPI uintN), or nil when absent.
    static func field<T: FixedWidthInteger & UnsignedInteger>(_ object: JSONObject, _ key: String, as: T.Type) throws(RockerFault) -> T? {
        guard let value = object[key] else { return nil }
        guard let raw = unsigned(value) else { throw RockerFault.invalid("'\(key)' out of range") }
        return try narrow(raw, key, as: T.self)
    }

    /// A typed member (generated code reads every QAPI uintN as UInt64; the
    /// host has range-checked it) as the width the switch keeps.
    static func narrow<T: FixedWidthInteger & UnsignedInteger>(_ value: UInt64?, _ key: String, as: T.Type) throws(RockerFault) -> T? {
        guard let value else { return nil }
        guard let fitted = T(exactly: value) else { throw RockerFault.invalid("'\(key)' out of range") }
        return fitted
    }

    static func mac(_ object: JSONObject, _ key: String) throws(RockerFault) -> MACAddress? {
        guard let value = object[key] else { return nil }
        guard let text = value.stringValue else { throw RockerFault.invalid("'\(key)' is not a MAC address") }
        return try mac(text, key)
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
