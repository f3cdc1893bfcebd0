import QMPWire

/// A device plugin written in Swift.
///
/// A plugin is a class: one instance per VM that lists the plugin, created
/// from that VM's config section. Its commands are declared in QAPI syntax
/// (`schema`, usually the target's `schema.json` embedded with SwiftPM's
/// `.embedInCode`) and bound to handlers in `register(_:)`. The host checks
/// arguments against the schema before a handler runs, so a handler reads
/// them without re-validating types.
///
/// ```swift
/// final class HelloPlugin: QMPPlugin {
///     static let name = "hello"
///     static let schema = Array(#"[{"command": "hello", "data": {"who": "str"}, "returns": "str"}]"#.utf8)
///     let vm: PluginVM
///     init(vm: PluginVM, config: JSONValue) throws(PluginError) { self.vm = vm }
///     static func register(_ plugin: PluginRegistry<HelloPlugin>) {
///         // QAPI.HelloCommand: scripts/qapi-gen's schema.generated.swift.
///         plugin.command(QAPI.HelloCommand.self) { this, args in .success(.string("hello, \(args.who)")) }
///     }
/// }
/// @_cdecl("qmp_plugin_entry")
/// public func qmpPluginEntry() -> UnsafeRawPointer { PluginExport.descriptor(for: HelloPlugin.self) }
/// ```
public protocol QMPPlugin: AnyObject {
    /// The plugin's name, as VM configs list it (`libqmp-<name>.so`).
    static var name: String { get }
    /// The plugin's own version.
    static var version: String { get }
    /// A JSON array of QAPI expressions: commands, events, types.
    static var schema: [UInt8] { get }
    /// Binds handlers, device drivers, object types and guest actions.
    static func register(_ plugin: PluginRegistry<Self>)
    /// The plugin's state for one VM; `config` is its section of the VM config.
    init(vm: PluginVM, config: JSONValue) throws(PluginError)
    /// The VM's run state changed (QEMU's RunState name).
    func runStateChanged(to state: String)
    /// The machine was reset: devices return to their power-on state.
    func reset()
    /// The VM is going away (timers are already cancelled).
    func destroy()
}

extension QMPPlugin {
    public static var version: String { "1.0.0" }
    public func runStateChanged(to state: String) {}
    public func reset() {}
    public func destroy() {}
}

/// Why a plugin could not set up a VM: the VM does not start, with this text.
public struct PluginError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
