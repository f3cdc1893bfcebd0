import QMPPluginKit
import QMPWire
#if canImport(Glibc)
import Glibc
#endif

/// The VM's graphic console and input devices (`ui.json`): screendump of a
/// simulated screen (PPM or PNG), send-key and input-send-event with QEMU
/// 7.2's checks, and a guest that records what it received.
///
/// Config keys (`plugins: {display: ...}`), see `DisplayConfig`:
/// - `enabled` (default true): false is a VM without a graphic console
///   (screendump: "There is no console to take a screendump from");
/// - `width`, `height` (default 640x480, as `-vga std`);
/// - `device`: the video device's id, for the `device` argument (none by default);
/// - `heads` (default 1): consoles on that device;
/// - `tablet` (default false): an absolute pointer, for `abs` events.
///
/// Guest action `received-input {clear?}`: the input events the guest has
/// received so far, in InputEvent form.
final class DisplayPlugin: QMPPlugin {
    static let name = "display"
    static var schema: [UInt8] { PackageResources.schema_json }

    /// QEMU's `kbd_default_delay_ms`: the gap between queued key events
    /// when send-key gives no hold-time.
    static let defaultKeyDelayMilliseconds: UInt64 = 10

    let vm: PluginVM
    let config: DisplayConfig
    var received = ReceivedInput()
    /// The VNC server's password state, when the VM has one.
    var vnc: VNCServer?

    init(vm: PluginVM, config: JSONValue) throws(PluginError) {
        self.vm = vm
        self.config = try DisplayConfig(config)
        vnc = self.config.vnc
    }

    static func register(_ plugin: PluginRegistry<DisplayPlugin>) {
        plugin.asyncCommand(QAPI.ScreendumpCommand.self) { this, args, reply in this.screendump(args, reply: reply) }
        plugin.command(QAPI.SendKeyCommand.self) { this, args in this.sendKey(args) }
        plugin.command(QAPI.InputSendEventCommand.self) { this, args in this.inputSendEvent(args) }
        // Taken over from the core, whose list has only the PS/2 mouse.
        plugin.command(QAPI.QueryMiceCommand.self) { this, _ in .success(.array(this.mice())) }
        // Taken over from the core, which has no VNC server to ask.
        plugin.command(QAPI.SetPasswordCommand.self) { this, args in this.setPassword(args) }
        plugin.command(QAPI.ExpirePasswordCommand.self) { this, args in this.expirePassword(args) }
        registerQueries(plugin)
        registerVNCDisplayCommands(plugin)
        plugin.guestAction(QAPI.ReceivedInputGuestAction.self) { this, args in
            let events = args.clear == true ? this.received.take() : this.received.events
            return .success(["events": .array(events)])
        }
    }

    // MARK: Consoles

    /// `qemu_console_lookup_by_device_name`: the console of `device`'s head.
    private func lookupConsole(device: String, head: Int64) -> QMPError? {
        guard config.enabled, let id = config.device, id == device else { return .deviceNotFound(device) }
        guard head >= 0, head < Int64(config.heads) else {
            return .generic("Device \(device) (head \(UInt32(truncatingIfNeeded: head))) is not bound to a QemuConsole")
        }
        return nil
    }

    // MARK: screendump

    func screendump(_ args: QAPI.ScreendumpCommand, reply: Reply) {
        let filename = args.filename
        if let device = args.device {
            if let error = lookupConsole(device: device, head: args.head ?? 0) { return reply.failure(error) }
        } else {
            if args.head != nil { return reply.failure(.generic("'head' must be specified together with 'device'")) }
            if !config.enabled { return reply.failure(.generic("There is no console to take a screendump from")) }
        }
        // The surface is taken when the command runs, as QEMU's is; the
        // open (a hung FUSE or NFS mount ignores O_NONBLOCK) runs on a worker.
        let surface = DisplaySurface(width: config.width, height: config.height, vmName: vm.name, runState: vm.runState)
        let format = args.format
        vm.openFile(filename, flags: O_WRONLY | O_CREAT | O_TRUNC, mode: 0o666, for: reply) { [vm] opened in
            switch opened {
            case .failure(let error):
                reply.failure(.generic("failed to open file '\(filename)': \(OpenFailure.reason(error.desc))"))
            case .success(let fd):
                let image = format == .png ? ImageEncoding.png(surface) : ImageEncoding.ppm(surface)
                // A pipe a client passed and never drains holds no thread (fd_transfer).
                vm.write(image, to: fd, closing: true) { error in
                    if error == 0 {
                        reply.success()
                    } else {
                        reply.failure(.generic("failed to write image: \(String(cString: strerror(error)))"))
                    }
                }
            }
        }
    }


    // MARK: Input

    /// Input handlers the machine has: a PS/2 keyboard and mouse on every
    /// machine but `none`, an absolute pointer only with `tablet`.
    private func hasHandler(for kind: String) -> Bool {
        if vm.machine.type == "none" { return false }
        return kind != "abs" || config.tablet
    }

    /// `query-mice` as QEMU 7.2 lists it with `-device usb-tablet`: the
    /// tablet first (index 3, not current until the guest uses it), then
    /// the PS/2 mouse of x86 machines (index 2, current).
    func mice() -> [JSONValue] {
        var mice: [JSONValue] = []
        if config.tablet {
            mice.append(["name": "QEMU HID Tablet", "index": 3, "current": false, "absolute": true])
        }
        let machine = vm.machine
        let arch = machine.arch
        if machine.type != "none", arch == "x86_64" || arch == "i386" {
            mice.append(["name": "QEMU PS/2 Mouse", "index": 2, "current": true, "absolute": false])
        }
        return mice
    }

    /// `qmp_send_key`: every key pressed in order, then released in reverse,
    /// one event per `hold-time` (the guest sees them arrive over time).
    func sendKey(_ args: QAPI.SendKeyCommand) -> Result<JSONValue, QMPError> {
        let keys = args.keys.map(\.qapiValue)
        let delay = DisplayPlugin.keyDelay(holdTime: args.holdTime ?? 0)
        let sequence = keys.map { ReceivedInput.key($0, down: true) } + keys.reversed().map { ReceivedInput.key($0, down: false) }
        deliver(sequence, every: delay)
        return .success(.object([:]))
    }

    /// QEMU passes `hold-time` (a QAPI `int`) to
    /// `qemu_input_event_send_key_delay(uint32_t delay_ms)`: it keeps the low
    /// 32 bits (so -1 and 2^63-1 hold for 2^32-1 ms), and 0 means the default.
    static func keyDelay(holdTime: Int64) -> UInt64 {
        let ms = UInt32(truncatingIfNeeded: holdTime)
        return ms == 0 ? defaultKeyDelayMilliseconds : UInt64(ms)
    }

    /// `qmp_input_send_event`: the device is looked up first, then the run
    /// state, then each event needs a handler; only then is anything sent.
    func inputSendEvent(_ args: QAPI.InputSendEventCommand) -> Result<JSONValue, QMPError> {
        if let device = args.device {
            if let error = lookupConsole(device: device, head: args.head ?? 0) { return .failure(error) }
        }
        guard vm.runState == "running" || vm.runState == "suspended" else { return .failure(.generic("VM not running")) }
        for event in args.events {
            let kind = event.type.rawValue
            guard hasHandler(for: kind) else { return .failure(.generic("Input handler not found for event type \(kind)")) }
        }
        for event in args.events { received.append(event.qapiValue) }
        return .success(.object([:]))
    }

    private func deliver(_ sequence: [JSONValue], every delay: UInt64) {
        for (index, event) in sequence.enumerated() {
            if index == 0 {
                received.append(event)
            } else {
                // Saturates: a hold of 2^32-1 ms times 2^32 keys is past any VM's life.
                let (due, overflow) = UInt64(index).multipliedReportingOverflow(by: delay)
                vm.startTimer(afterMilliseconds: overflow ? .max : due) { [weak self] in self?.received.append(event) }
            }
        }
    }
}

@_cdecl("qmp_plugin_entry")
public func qmpPluginEntry() -> UnsafeRawPointer { PluginExport.descriptor(for: DisplayPlugin.self) }
