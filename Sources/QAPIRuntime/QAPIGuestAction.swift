import QMPWire

/// A guest action's arguments, generated from a plugin schema's
/// `{"guest-action": NAME, "data": {...}}`: its name, the member map the host
/// checks a call against (QAPI syntax, as JSON text) and its members, typed.
public protocol QAPIGuestAction: QAPIObject {
    static var qapiName: String { get }
    static var qapiArguments: String { get }
}
