import PluginHost
import QMPPluginABI
import QMPServer
import QMPWire

/// The answer to a command: its `return` value or a QMP error.
public typealias CommandResult = Result<JSONValue, QMPError>

/// What a core handler sees: the VM, the call, and the checked arguments.
public struct CommandContext {
    public let vm: VM
    public let call: CommandCall
    public var arguments: JSONObject { call.arguments }
}

/// What runs a command.
public enum CommandHandler {
    /// A core command that answers at once.
    case immediate((CommandContext) -> CommandResult)
    /// A core command that answers later, through its completion.
    case deferred((CommandContext, @escaping (CommandResult) -> Void) -> Void)
    /// A plugin's handler, run on the VM's instance of that plugin:
    /// `instance` is the library's place in its table's `plugins`, which is
    /// its instance's in the VM's (`VM.plugins`, made in that order), so the
    /// instance is found without a search.
    case plugin(PluginLibrary, BoundHandler, instance: Int)
}

extension JSONObject {
    /// The `return` of commands that return nothing: `{}`.
    public static let empty = JSONObject()
}

extension CommandResult {
    /// `{"return": {}}`.
    public static let ok: CommandResult = .success(.object(.empty))
}
