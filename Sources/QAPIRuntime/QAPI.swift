import QMPWire

/// The namespace of every type `scripts/qapi-gen` generates from a schema:
/// command arguments (`QAPI.BalloonCommand`), events (`QAPI.BalloonChangeEvent`),
/// and the schema's structs, unions, alternates and enums under their QAPI
/// names. QMPPluginKit holds the common modules plugins include
/// (`sockets.json`, `common.json`); each plugin extends the namespace with its own.
public enum QAPI {}

/// Where a value sits in a command's arguments, named as QEMU's input
/// visitor names it in errors: most texts use the full path (`addr.port`),
/// enum values and alternates the member's own name.
public struct QAPIPath: Sendable {
    public let fullName: String
    /// nil for a list element (QEMU passes a NULL name and prints "null").
    public let shortName: String?

    public static let root = QAPIPath(fullName: "", shortName: nil)

    public func member(_ name: String) -> QAPIPath {
        QAPIPath(fullName: fullName.isEmpty ? name : "\(fullName).\(name)", shortName: name)
    }

    public func element(_ index: Int) -> QAPIPath {
        QAPIPath(fullName: "\(fullName)[\(index)]", shortName: nil)
    }

    var shortText: String { shortName ?? "null" }

    /// The texts of QEMU's `qobject_input_*` visitors, which the host's
    /// argument checker gives first; a decoder only repeats them for a value
    /// the checker never saw.
    static func missing(_ path: QAPIPath) -> QMPError {
        .generic("Parameter '\(path.fullName)' is missing")
    }

    static func typeError(_ path: QAPIPath, _ expected: String) -> QMPError {
        .generic("Invalid parameter type for '\(path.fullName)', expected: \(expected)")
    }

    public static func alternateError(_ path: QAPIPath, _ typeName: String) -> QMPError {
        .generic("Invalid parameter type for '\(path.shortText)', expected: \(typeName)")
    }

    static func badEnumValue(_ path: QAPIPath, _ value: String) -> QMPError {
        .generic("Parameter '\(path.shortText)' does not accept value '\(value)'")
    }
}
