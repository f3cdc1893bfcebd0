/// The error classes QMP puts on the wire.
///
/// QEMU 7.2 still sends these five; everything new is `GenericError` with a
/// descriptive text, and clients are told to match on text rarely and on class
/// less rarely still, so the text matters as much as the class.
public enum QMPErrorClass: String, Sendable, CaseIterable {
    case genericError = "GenericError"
    case commandNotFound = "CommandNotFound"
    case deviceNotActive = "DeviceNotActive"
    case deviceNotFound = "DeviceNotFound"
    case kvmMissingCap = "KVMMissingCap"
}

/// A QMP error reply's payload: `{"error": {"class": ..., "desc": ...}}`.
public struct QMPError: Error, Sendable, Equatable {
    public var errorClass: QMPErrorClass
    public var desc: String

    public init(_ errorClass: QMPErrorClass, _ desc: String) {
        self.errorClass = errorClass
        self.desc = desc
    }

    /// `GenericError` with `desc`: the common case.
    public static func generic(_ desc: String) -> QMPError { QMPError(.genericError, desc) }

    /// QEMU's DeviceNotFound text: "Device 'x' not found".
    public static func deviceNotFound(_ id: String) -> QMPError {
        QMPError(.deviceNotFound, "Device '\(id)' not found")
    }

    /// QEMU's CommandNotFound text for an unknown command.
    public static func commandNotFound(_ name: String) -> QMPError {
        QMPError(.commandNotFound, "The command \(name) has not been found")
    }

    /// qmp_dispatch's refusal of `exec-oob` for a command without
    /// `allow-oob` in its schema.
    public static func commandWithoutOOB(_ name: String) -> QMPError {
        .generic("The command \(name) does not support OOB")
    }
}
