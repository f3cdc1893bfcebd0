import PluginHost

/// Why the fleet could not do something at the host level (not a QMP error
/// a client gets, although the control socket passes these texts on).
public enum FleetError: Error, Sendable, CustomStringConvertible, Equatable {
    /// A configuration problem: which file, which key, what was expected.
    case config(file: String, key: String, message: String)
    /// A plugin could not be loaded or instantiated; the text names it and its path.
    case plugin(String)
    /// A VM could not be created or found.
    case vm(String)
    /// A socket or file operation failed.
    case io(String)

    /// A plugin's load or instantiation error, its text as it is.
    package init(_ error: PluginLoadError) { self = .plugin(error.description) }

    public var description: String {
        switch self {
        case .config(let file, let key, let message):
            return key.isEmpty ? "\(file): \(message)" : "\(file): '\(key)': \(message)"
        case .plugin(let m), .vm(let m), .io(let m):
            return m
        }
    }
}
