import Foundation
import QAPISchema
import QMPPluginABI
import QMPWire
import SharedValues
import UVLoop
#if canImport(Glibc)
import Glibc
#endif

/// Finds, loads and checks plugins, once per process.
///
/// A plugin named `block` is the file `libqmp-block.so` in the first plugin
/// directory that has it. Loading is two-phase: `qmp_plugin_entry()` only
/// returns a static descriptor, the host checks its ABI version and size, and
/// only then lets `init()` register anything. Every failure is an error that
/// names the plugin and the path and says what is wrong; a plugin that failed
/// stays failed (VMs that need it do not start, the others do).
///
/// Thread-safe: the shards of a fleet share one loader, so each library is
/// loaded, and its `init` run, once per process. Every use takes one
/// process-wide lock; none is on a request's path (routers cache their
/// command tables; `simulatedDeviceTypes` has a lock of its own).
public final class PluginLoader: @unchecked Sendable {
    public let searchPath: [String]
    /// The core schema plugins' schemas are checked against.
    package let core: SchemaModule
    private var loaded: [String: PluginLibrary] = [:]
    private var failures: [String: PluginLoadError] = [:]

    public init(searchPath: [String], core: SchemaModule) {
        self.searchPath = searchPath
        self.core = core
    }

    public var libraries: [PluginLibrary] {
        Self.loadLock.withLock { loaded.values.sorted { $0.name < $1.name } }
    }

    /// Guards every loader's state and serializes plugin loads across the
    /// process (recursive: `library(named:)` loads through `load(path:)`).
    private static let loadLock = NSRecursiveLock()

    /// Device types the loaded plugins simulate: a VM without the plugin
    /// does not offer them (`device-list-properties`). Probe commands ask
    /// on every call, so the set is kept apart from the load lock, which a
    /// load on another loop may hold through `dlopen` and `init`.
    public var simulatedDeviceTypes: Set<String> { deviceTypes.withLock { $0 } }
    private let deviceTypes = Locked<Set<String>>([])

    /// The file a plugin name maps to.
    public static func fileName(for plugin: String) -> String { "libqmp-\(plugin).so" }

    /// The directory of the running executable: where SwiftPM puts plugins.
    public static var executableDirectory: String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return "." }
        let path = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return String(path[..<slash])
    }

    /// The plugin `name`, loading it on first use.
    public func library(named name: String) throws(PluginLoadError) -> PluginLibrary {
        Self.loadLock.lock()
        defer { Self.loadLock.unlock() }
        if let library = loaded[name] { return library }
        if let failure = failures[name] { throw failure }
        guard isValidPluginName(name) else {
            throw PluginLoadError("plugin '\(name)': not a valid plugin name")
        }
        var found: String?
        for directory in searchPath where found == nil {
            let candidate = "\(directory)/\(Self.fileName(for: name))"
            if access(candidate, F_OK) == 0 { found = candidate }
        }
        guard let path = found else {
            let error = PluginLoadError("plugin '\(name)': \(Self.fileName(for: name)) not found in \(searchPath.joined(separator: ":"))")
            failures[name] = error
            throw error
        }
        do throws(PluginLoadError) {
            let library = try load(path: path, expectedName: name)
            loaded[name] = library
            return library
        } catch {
            failures[name] = error
            throw error
        }
    }

    /// Loads a plugin from an explicit path (tests, `vm-create` with a path).
    public func load(path: String, expectedName: String? = nil) throws(PluginLoadError) -> PluginLibrary {
        // One load at a time in the process: a library's entry point and
        // init set its own globals (the Swift SDK's do), and routers on
        // other threads (tests, several loops) may load the same library.
        Self.loadLock.lock()
        defer { Self.loadLock.unlock() }
        let label = expectedName ?? path
        if let refusal = PluginFileTrust.refusal(for: path) {
            throw PluginLoadError("plugin '\(label)' (\(path)): not loaded: \(refusal); a plugin is code the fleet runs, so only the fleet's user or root may be able to change it")
        }
        dlerror()
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw PluginLoadError("plugin '\(label)' (\(path)): \(Self.lastDLError() ?? "dlopen failed")")
        }
        dlerror()
        guard let symbol = dlsym(handle, QMP_PLUGIN_ENTRY_SYMBOL) else {
            throw PluginLoadError("plugin '\(label)' (\(path)): no \(QMP_PLUGIN_ENTRY_SYMBOL): \(Self.lastDLError() ?? "symbol missing")")
        }
        let entry = unsafeBitCast(symbol, to: qmp_plugin_entry_fn.self)
        guard let descriptor = entry() else {
            throw PluginLoadError("plugin '\(label)' (\(path)): \(QMP_PLUGIN_ENTRY_SYMBOL) returned NULL")
        }
        let d = descriptor.pointee
        guard (QMP_PLUGIN_ABI_MIN_VERSION...QMP_PLUGIN_ABI_VERSION).contains(d.abi_version) else {
            throw PluginLoadError("plugin '\(label)' (\(path)): ABI version \(d.abi_version), but this host speaks versions \(QMP_PLUGIN_ABI_MIN_VERSION) to \(QMP_PLUGIN_ABI_VERSION)")
        }
        guard d.struct_size >= PluginLibrary.descriptorBaseSize else {
            throw PluginLoadError("plugin '\(label)' (\(path)): descriptor size \(d.struct_size) is smaller than \(PluginLibrary.descriptorBaseSize)")
        }
        let name = d.name.map { String(cString: $0) } ?? ""
        if let expectedName, name != expectedName {
            throw PluginLoadError("plugin '\(expectedName)' (\(path)): the library calls itself '\(name)'")
        }
        if let other = loaded[name] {
            throw PluginLoadError("plugin '\(name)' (\(path)): a plugin of that name is already loaded from \(other.path)")
        }
        guard let initFn = d.`init` else {
            throw PluginLoadError("plugin '\(name)' (\(path)): the descriptor has no init function")
        }
        let registration = PluginRegistration(pluginName: name)
        var error = [CChar](repeating: 0, count: 512)
        let rc = initFn(HostAPI.table(forABI: d.abi_version), registration.opaque, &error, error.count)
        if rc != 0 {
            let text = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw PluginLoadError("plugin '\(name)' (\(path)): init failed: \(text.isEmpty ? "returned \(rc)" : text)")
        }
        if !registration.problems.isEmpty {
            throw PluginLoadError("plugin '\(name)' (\(path)): \(registration.problems.joined(separator: "; "))")
        }
        let schema: SchemaModule
        do {
            schema = try SchemaModule(name: name, expressions: .array(registration.schemaExpressions), dependencies: [core])
        } catch {
            throw PluginLoadError("plugin '\(name)' (\(path)): schema: \(error.message)")
        }
        for command in registration.commandHandlers.keys where schema.command(command) == nil {
            throw PluginLoadError("plugin '\(name)' (\(path)): handler bound to undeclared command '\(command)'")
        }
        for command in schema.commandNames where registration.commandHandlers[command] == nil {
            throw PluginLoadError("plugin '\(name)' (\(path)): command '\(command)' is declared but has no handler")
        }
        try checkNamesAreFree(registration, schema: schema, plugin: name, path: path)
        let library = PluginLibrary(path: path, descriptor: descriptor, registration: registration, schema: schema)
        loaded[name] = library
        deviceTypes.withLock { $0.formUnion(library.deviceDrivers.keys) }
        return library
    }

    /// Command, event, driver and object-type names are unique across the
    /// core and every loaded plugin, except that a plugin may take over a
    /// core command it declares exactly as the core does (see `SchemaView`).
    private func checkNamesAreFree(_ registration: PluginRegistration, schema: SchemaModule, plugin: String, path: String) throws(PluginLoadError) {
        for command in schema.commandNames {
            if let coreDeclaration = core.command(command), coreDeclaration != schema.command(command) {
                throw PluginLoadError("plugin '\(plugin)' (\(path)): command '\(command)' is already a core command, declared differently")
            }
            if let owner = loaded.values.first(where: { $0.schema.command(command) != nil }) {
                throw PluginLoadError("plugin '\(plugin)' (\(path)): command '\(command)' is already registered by plugin '\(owner.name)'")
            }
        }
        for driver in registration.deviceDrivers.keys {
            if let owner = loaded.values.first(where: { $0.deviceDrivers[driver] != nil }) {
                throw PluginLoadError("plugin '\(plugin)' (\(path)): device driver '\(driver)' is already registered by plugin '\(owner.name)'")
            }
        }
        for type in registration.objectTypes.keys {
            if let owner = loaded.values.first(where: { $0.objectTypes[type] != nil }) {
                throw PluginLoadError("plugin '\(plugin)' (\(path)): object type '\(type)' is already registered by plugin '\(owner.name)'")
            }
        }
    }

    private func isValidPluginName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64 && name.utf8.allSatisfy { b in
            (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) || b == 0x2d || b == 0x5f
        }
    }

    private static func lastDLError() -> String? {
        guard let text = dlerror() else { return nil }
        return String(cString: text)
    }
}
