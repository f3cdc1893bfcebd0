import QMPPluginKit
import QMPWire

/// The guest memory balloon (`balloon`, `query-balloon`, BALLOON_CHANGE from
/// QEMU's `machine.json`) and the virtio-balloon devices that carry it.
///
/// The core answers both commands with QEMU 7.2's DeviceNotActive on VMs
/// without this plugin; with it, they work once a balloon is plugged (from
/// config or `device_add`), and the simulated guest's driver moves the
/// balloon towards the target while the VM runs, reporting each step.
///
/// Config keys: see `BalloonConfig`.
final class BalloonPlugin: QMPPlugin {
    static let name = "balloon"
    static var schema: [UInt8] { PackageResources.schema_json }

    /// QEMU 7.2's virtio-balloon device types on x86.
    static let drivers = ["virtio-balloon-pci", "virtio-balloon-pci-transitional", "virtio-balloon-pci-non-transitional"]
    /// How often the guest driver works on the balloon.
    static let guestStepMilliseconds: UInt64 = 100
    /// How long the simulated guest takes to release an unplugged balloon.
    static let guestUnplugMilliseconds: UInt64 = 50

    let vm: PluginVM
    let config: BalloonConfig
    /// The plugged balloon's id (or QOM path) and state.
    var device: String?
    /// Loop-confined, as the whole instance, and read by every
    /// `query-balloon`: without dynamic exclusivity checks.
    @exclusivity(unchecked) var balloon: VirtioBalloon? {
        didSet { queryBalloonText = nil }
    }
    /// `query-balloon`'s answer while the balloon stays as it is: libvirt
    /// polls it far more often than the guest driver moves it, so it is
    /// written once per change (as the block plugin keeps `query-block`'s).
    @exclusivity(unchecked) private var queryBalloonText: CanonicalJSON?
    var guestTimer: TimerID?

    init(vm: PluginVM, config: JSONValue) throws(PluginError) {
        self.vm = vm
        self.config = try BalloonConfig(config)
        if let id = self.config.device {
            plug(id)
            if case .failure(let error) = vm.deviceRealized(driver: "virtio-balloon-pci", id: id) {
                throw PluginError("balloon: device: \(error.desc)")
            }
        }
    }

    static func register(_ plugin: PluginRegistry<BalloonPlugin>) {
        plugin.textCommand(QAPI.QueryBalloonCommand.self) { this, _ in this.queryBalloonAnswer }
        plugin.command(QAPI.BalloonCommand.self) { this, args in this.setTarget(args.value) }
        for driver in drivers {
            plugin.device(description(driver), add: { this, id, _ in this.add(id) }, remove: { this, id in this.remove(id) })
        }
    }

    /// `qmp_query_balloon`: `{"actual": ...}`, or `have_balloon()`'s error.
    var queryBalloonAnswer: Result<CanonicalJSON, QMPError> {
        guard let balloon else { return .failure(BalloonPlugin.notActive) }
        if let text = queryBalloonText { return .success(text) }
        let text = CanonicalJSON(["actual": .int(balloon.actualBytes)])
        queryBalloonText = text
        return .success(text)
    }

    /// `have_balloon()`'s error.
    static let notActive = QMPError(.deviceNotActive, "No balloon device has been activated")

    static func description(_ driver: String) -> JSONValue {
        let properties = ["addr", "deflate-on-oom", "free-page-hint", "free-page-reporting", "guest-stats-polling-interval",
                          "iothread", "disable-legacy", "disable-modern", "packed", "iommu_platform", "ats", "event_idx",
                          "indirect_desc", "multifunction", "romfile", "rombar", "page-poison", "qemu-4-0-config-size"]
        return [
            "name": .string(driver), "parent": "virtio-balloon-pci-base", "bus": "PCI", "hotpluggable": true,
            "properties": .array(properties.map { ["name": .string($0), "type": "any"] }),
        ]
    }

    // MARK: Devices

    private func plug(_ id: String) {
        device = id
        balloon = VirtioBalloon(ramBytes: Int64(clamping: vm.machine.ramSize))
    }

    /// `virtio_balloon_device_realize` → `qemu_add_balloon_handler`: one per VM.
    func add(_ id: String?) -> Result<Void, QMPError> {
        guard balloon == nil else { return .failure(.generic("Only one balloon device is supported")) }
        plug(id ?? "")
        return .success(())
    }

    func remove(_ id: String) -> Result<Void, QMPError> {
        vm.startTimer(afterMilliseconds: BalloonPlugin.guestUnplugMilliseconds) { [weak self] in
            guard let self else { return }
            self.balloon = nil
            self.device = nil
            if let timer = self.guestTimer { self.vm.cancelTimer(timer) }
            self.guestTimer = nil
            self.vm.deviceDeleted(id)
        }
        return .success(())
    }

    // MARK: The balloon

    /// `qmp_balloon`: the device first, then a positive size.
    func setTarget(_ value: Int64) -> Result<JSONValue, QMPError> {
        guard balloon != nil else { return .failure(BalloonPlugin.notActive) }
        guard value > 0 else { return .failure(.generic("Parameter 'target' expects a size")) }
        balloon?.setTarget(value)
        startGuestDriver()
        return .success(.object([:]))
    }

    /// The guest driver works every `guestStepMilliseconds` while the VM
    /// runs, until `actual` reaches the target.
    private func startGuestDriver() {
        guard config.guestDriver, guestTimer == nil else { return }
        // The config's rate may be any positive int64: a product past
        // 2^63 is a step that settles at once, not a trap.
        let perStep = config.rateMiBPerSecond.multipliedReportingOverflow(by: 1_048_576 * Int64(BalloonPlugin.guestStepMilliseconds))
        let step = perStep.overflow ? Int64.max : perStep.partialValue / 1000
        guestTimer = vm.startTimer(afterMilliseconds: BalloonPlugin.guestStepMilliseconds,
                                   repeatEvery: BalloonPlugin.guestStepMilliseconds) { [weak self] in
            guard let self, self.vm.isRunning, var balloon = self.balloon else { return }
            if balloon.step(by: step) {
                self.balloon = balloon
                self.vm.emit(QAPI.BalloonChangeEvent(actual: balloon.actualBytes))
            }
            if balloon.isSettled, let timer = self.guestTimer {
                self.vm.cancelTimer(timer)
                self.guestTimer = nil
            }
        }
    }
}

@_cdecl("qmp_plugin_entry")
public func qmpPluginEntry() -> UnsafeRawPointer { PluginExport.descriptor(for: BalloonPlugin.self) }
