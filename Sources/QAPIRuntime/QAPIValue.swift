import QMPWire

/// A value generated code decodes from and encodes to QMP's JSON: the QAPI
/// builtins, lists, and every generated type.
public protocol QAPIValue: Sendable {
    init(qapi value: JSONValue, at path: QAPIPath) throws(QMPError)
    var qapiValue: JSONValue { get }
}

/// A QAPI complex type (struct, union, command arguments, event data): a JSON
/// object whose members decode one by one. A union's branch reads its
/// members from the same object as its base.
public protocol QAPIObject: QAPIValue, Equatable {
    init(qapiMembers members: JSONObject, at path: QAPIPath) throws(QMPError)
    func encodeMembers(into members: inout JSONObject)
}

extension QAPIObject {
    public init(qapi value: JSONValue, at path: QAPIPath) throws(QMPError) {
        guard case .object(let members) = value else { throw QAPIPath.typeError(path, "object") }
        try self.init(qapiMembers: members, at: path)
    }

    public var qapiValue: JSONValue { .object(qapiObject) }

    public var qapiObject: JSONObject {
        var members = JSONObject()
        encodeMembers(into: &members)
        return members
    }
}

/// A QAPI enum: its values are the raw values.
public protocol QAPIEnum: QAPIValue, RawRepresentable, CaseIterable, Hashable where RawValue == String {}

extension QAPIEnum {
    public init(qapi value: JSONValue, at path: QAPIPath) throws(QMPError) {
        guard case .string(let text) = value else { throw QAPIPath.typeError(path, "string") }
        guard let known = Self(rawValue: text) else { throw QAPIPath.badEnumValue(path, text) }
        self = known
    }

    public var qapiValue: JSONValue { .string(rawValue) }
}

extension JSONObject {
    /// A member the schema requires.
    public func required<T: QAPIValue>(_ name: String, at path: QAPIPath) throws(QMPError) -> T {
        guard let value = self[name] else { throw QAPIPath.missing(path.member(name)) }
        return try T(qapi: value, at: path.member(name))
    }

    /// A member the schema marks optional (`*name`): nil when absent.
    public func optional<T: QAPIValue>(_ name: String, at path: QAPIPath) throws(QMPError) -> T? {
        guard let value = self[name] else { return nil }
        return try T(qapi: value, at: path.member(name))
    }
}

extension String: QAPIValue {
    public init(qapi value: JSONValue, at path: QAPIPath) throws(QMPError) {
        guard case .string(let text) = value else { throw QAPIPath.typeError(path, "string") }
        self = text
    }
    public var qapiValue: JSONValue { .string(self) }
}

extension Bool: QAPIValue {
    public init(qapi value: JSONValue, at path: QAPIPath) throws(QMPError) {
        guard case .bool(let flag) = value else { throw QAPIPath.typeError(path, "boolean") }
        self = flag
    }
    public var qapiValue: JSONValue { .bool(self) }
}

/// `int`, `int8` ... `int64`: the host's checker has range-checked the narrow ones.
extension Int64: QAPIValue {
    public init(qapi value: JSONValue, at path: QAPIPath) throws(QMPError) {
        guard let number = value.int64Value else { throw QAPIPath.typeError(path, "integer") }
        self = number
    }
    public var qapiValue: JSONValue { .int(self) }
}

/// `uint8` ... `uint64` and `size`: a negative integer is taken modulo 2^64, as
/// QEMU's `qobject_input_type_uint64` takes it "for backward compatibility".
extension UInt64: QAPIValue {
    public init(qapi value: JSONValue, at path: QAPIPath) throws(QMPError) {
        switch value {
        case .int(let i): self = UInt64(bitPattern: i)
        case .uint(let u): self = u
        default: throw QMPError.generic("Parameter '\(path.fullName)' expects uint64")
        }
    }
    public var qapiValue: JSONValue { self <= UInt64(Int64.max) ? .int(Int64(self)) : .uint(self) }
}

/// `number`: any JSON number.
extension Double: QAPIValue {
    public init(qapi value: JSONValue, at path: QAPIPath) throws(QMPError) {
        guard let number = value.doubleValue else { throw QAPIPath.typeError(path, "number") }
        self = number
    }
    public var qapiValue: JSONValue { .double(self) }
}

/// `any` (and `null`): the value as it came.
extension JSONValue: QAPIValue {
    public init(qapi value: JSONValue, at path: QAPIPath) throws(QMPError) { self = value }
    public var qapiValue: JSONValue { self }
}

extension Array: QAPIValue where Element: QAPIValue {
    public init(qapi value: JSONValue, at path: QAPIPath) throws(QMPError) {
        guard case .array(let items) = value else { throw QAPIPath.typeError(path, "array") }
        var decoded: [Element] = []
        decoded.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            decoded.append(try Element(qapi: item, at: path.element(index)))
        }
        self = decoded
    }
    public var qapiValue: JSONValue { .array(map(\.qapiValue)) }
}
