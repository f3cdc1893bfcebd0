import QMPWire

/// An event's data, generated from its schema declaration.
public protocol QAPIEvent: QAPIObject {
    static var qapiName: String { get }
}
