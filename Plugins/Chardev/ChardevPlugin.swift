import QMPPluginKit
import QMPWire

/// Character devices, as QEMU's `char.json` serves them: real backends
/// (null, file, pty, unix socket, ringbuf/memory, udp, pipe, serial,
/// parallel, mux; dbus, spicevmc, spiceport and braille as QEMU 7.2 without
/// a display answers them), chardev-add/-remove/
/// -change, query-chardev(-backends), ringbuf-write/-read, the devices that
/// use chardevs, the entropy objects (`rng-random`, `rng-builtin`,
/// `rng-egd`, which uses a chardev) and the `virtio-rng-pci` device that
/// reads them, the VM's serial consoles with a simulated boot log, and
/// VSERPORT_CHANGE.
///
/// Config keys (`plugins: {chardev: ...}`), see `ChardevConfig`:
/// - `serial`: the serial consoles, default `[{id: serial0, backend: pty}]`;
///   each `{id, backend: pty|socket|file|ringbuf|null, path, size}`.
/// - `chardevs`: extra chardevs, each `{id, backend}` as chardev-add takes them.
/// - `boot-log`: write a boot log ending in "login:" to the first serial
///   console when the VM starts running (default true).
///
/// Guest actions: `console-write` {chardev?, text}, `vserport-open` {port, open}.
final class ChardevPlugin: SharedConfigurationPlugin {
    static let name = "chardev"
    static var schema: [UInt8] { PackageResources.schema_json }

    let vm: PluginVM
    /// In creation order.
    var chardevs: [Chardev] = []
    /// The order query-chardev lists them in: QEMU's hash table of ids,
    /// kept through every add and removal once the first one happens.
    var order = ChardevOrder()
    /// The serial consoles' chardev ids, in config order.
    var serialIDs: [String] = []
    var controllers: [VirtioSerialController] = []
    var ports: [VirtioSerialPort] = []
    var anonymousControllers = 0
    let bootLog: Bool
    var hasBooted = false
    var lastRunState: String?
    /// Chardevs one VM's clients may have (`chardev-add`): most hold a
    /// descriptor (a file, a socket, a udp socket, a host device), so
    /// without a bound one client could use up the process's descriptors
    /// and every VM's opens and accepts would fail. QEMU 7.2 has none.
    static let chardevsPerVM = 1024
    /// Ids whose chardev-add or chardev-change is opening files off the
    /// loop: taken already, as in QEMU, where the open does not yield.
    var opening: Set<String> = []
    /// The QEMU modules this VM has loaded (`ChardevKinds`): their backend
    /// kinds are listed from then on.
    var loadedModules: Set<String> = []
    /// The rng backend objects in /objects, by id (`RngBackends.swift`).
    var rngBackends: [String: RngBackend] = [:]
    /// The virtio-rng-pci devices, in creation order.
    var rngDevices: [VirtioRNGDevice] = []

    /// A template's VMs share their decoded serial ports and chardevs.
    static func configuration(from config: JSONValue) throws(PluginError) -> ChardevConfig { try ChardevConfig(config) }

    init(vm: PluginVM, configuration config: ChardevConfig) throws(PluginError) {
        self.vm = vm
        bootLog = config.bootLog
        for serial in config.serials {
            switch addChardev(id: serial.id, backend: serial.backend) {
            case .failure(let error):
                destroy()
                throw PluginError("chardev: serial '\(serial.id)': \(error.desc)")
            case .success(let chardev):
                chardev.frontend = ChardevFrontend(deviceID: nil, driver: ChardevPlugin.uartDriver, isOpen: true)
                serialIDs.append(serial.id)
            }
        }
        for extra in config.chardevs {
            if case .failure(let error) = addChardev(id: extra.id, backend: extra.backend) {
                destroy()
                throw PluginError("chardev: \(error.desc)")
            }
        }
        // One host call for the state (`isRunning` would be a second).
        let state = vm.runState
        lastRunState = state
        if state == "running" { bootIfStarting("running") }
    }

    static func register(_ plugin: PluginRegistry<ChardevPlugin>) {
        plugin.asyncCommand(QAPI.ChardevAddCommand.self) { this, args, reply in this.chardevAdd(args, reply: reply) }
        plugin.asyncCommand(QAPI.ChardevRemoveCommand.self) { this, args, reply in this.chardevRemove(args, reply: reply) }
        plugin.asyncCommand(QAPI.ChardevChangeCommand.self) { this, args, reply in this.chardevChange(args, reply: reply) }
        plugin.command(QAPI.ChardevSendBreakCommand.self) { this, args in this.chardevSendBreak(args) }
        plugin.command(QAPI.QueryChardevCommand.self) { this, _ in this.queryChardev() }
        plugin.command(QAPI.QueryChardevBackendsCommand.self) { this, _ in this.queryChardevBackends() }
        plugin.command(QAPI.RingbufWriteCommand.self) { this, args in this.ringbufWrite(args) }
        plugin.command(QAPI.RingbufReadCommand.self) { this, args in this.ringbufRead(args) }
        register(devices: plugin)
        register(rngDevice: plugin)
        registerRngBackends(plugin)
        plugin.guestAction(QAPI.ConsoleWriteGuestAction.self) { this, args in this.guestConsoleWrite(args) }
        plugin.guestAction(QAPI.VserportOpenGuestAction.self) { this, args in this.guestVserportOpen(args) }
    }

    func runStateChanged(to state: String) { bootIfStarting(state) }

    /// Releases every fd, pty and socket path.
    func destroy() {
        for backend in rngBackends.values { backend.release() }
        for device in rngDevices { device.backend?.release() }
        rngBackends.removeAll()
        rngDevices.removeAll()
        for chardev in chardevs { chardev.close() }
        chardevs.removeAll()
    }
}

@_cdecl("qmp_plugin_entry")
public func qmpPluginEntry() -> UnsafeRawPointer { PluginExport.descriptor(for: ChardevPlugin.self) }
