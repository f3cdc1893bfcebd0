/// A command's answer as its completion carries it to the session that
/// writes the line: a value, an error, or a `return` value that is already
/// text in QEMU's form (a plugin's reply, `CanonicalJSON`), which goes into
/// the line as it is and is parsed only by whoever needs the value.
///
/// Handlers answer with `Result<JSONValue, QMPError>` (`init(_:)` wraps
/// one); only the plugin boundary makes `.encoded`.
public enum QMPReply: Sendable {
    case success(JSONValue)
    case failure(QMPError)
    case encoded(CanonicalJSON)

    public init(_ result: Result<JSONValue, QMPError>) {
        switch result {
        case .success(let value): self = .success(value)
        case .failure(let error): self = .failure(error)
        }
    }

    /// The answer with its value parsed, for a caller that reads it.
    public var result: Result<JSONValue, QMPError> {
        switch self {
        case .success(let value): return .success(value)
        case .failure(let error): return .failure(error)
        case .encoded(let text): return .success(text.value)
        }
    }

    /// The error, when the command failed.
    public var error: QMPError? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
