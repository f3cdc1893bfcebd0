import PluginHost
import QMPWire

/// A device that `device_add` (or the VM's config) created.
public struct Device: Equatable {
    public let id: String?
    public let driver: String
    /// `/machine/peripheral/<id>` or `/machine/peripheral-anon/device[N]`.
    public var qomPath: String { otherPath ?? PeripheralPath.of(id: id ?? "") }
    /// The QOM path when it is not `/machine/peripheral/<id>` (an anonymous
    /// device's): a named device's is written when asked for, not kept
    /// (10,000 VMs of 6 configured devices kept 1.9 MB of them).
    private let otherPath: String?
    /// Its `bus` property (device_add and a config's device both keep it
    /// there): read from them, not kept twice.
    public var bus: String? { properties["bus"]?.stringValue }
    /// The properties it was created with (for `qom-get`).
    public let properties: JSONObject
    /// The plugin that owns it.
    public let owner: PluginLibrary
    /// device_del was requested and the guest has not released it yet.
    public var unplugPending = false
    /// Where it sits on the VM's root PCI bus (`VM.pciBus`); nil for a
    /// device on another bus.
    public var pciAddress: PCIAddress? = nil

    public init(id: String?, driver: String, qomPath: String, bus: String?, properties: JSONObject, owner: PluginLibrary,
                unplugPending: Bool = false, pciAddress: PCIAddress? = nil) {
        self.id = id
        self.driver = driver
        let named = id.map { PeripheralPath.matches(qomPath, id: $0) } ?? false
        otherPath = named ? nil : qomPath
        // Both makers put `bus` in the properties; a migration source's
        // device may have it apart only.
        var properties = properties
        if let bus, properties["bus"] == nil { properties["bus"] = .string(bus) }
        self.properties = properties
        self.owner = owner
        self.unplugPending = unplugPending
        self.pciAddress = pciAddress
    }

    /// A device named `id`, at `/machine/peripheral/<id>`: a configured
    /// device's (`VM.realizeConfiguredDevice`), whose path is known without
    /// writing it out and reading it back (1.5 k instructions of each of a
    /// VM's configured devices).
    init(peripheral id: String, driver: String, properties: JSONObject, owner: PluginLibrary, pciAddress: PCIAddress?) {
        self.id = id
        self.driver = driver
        otherPath = nil
        self.properties = properties
        self.owner = owner
        self.pciAddress = pciAddress
    }

    /// Its name in its container: the id, or an anonymous one's `device[N]`.
    var childName: String {
        if let id { return id }
        return String(qomPath.split(separator: "/").last ?? "")
    }

    /// Whether `path` is its QOM path (no path written for the question).
    func hasQOMPath(_ path: String) -> Bool {
        if let otherPath { return otherPath == path }
        guard let id else { return false }
        return PeripheralPath.matches(path, id: id)
    }
}

extension Device {
    /// The same device: its owner the same library, the rest equal.
    public static func == (a: Device, b: Device) -> Bool {
        a.id == b.id && a.driver == b.driver && a.otherPath == b.otherPath && a.owner === b.owner
            && a.unplugPending == b.unplugPending && a.pciAddress == b.pciAddress && a.properties == b.properties
    }
}

/// The VM's devices, as QEMU's qdev tree knows them: for duplicate ids,
/// `device_del` routing, `qom-list` and DEVICE_DELETED.
public final class DeviceRegistry {
    public private(set) var devices: [Device] = []
    private var anonymousCount = 0
    /// `qom-list`'s order of `/machine/peripheral` and `.../peripheral-anon`.
    private var peripheralOrder = QOMChildOrder()
    private var anonymousOrder = QOMChildOrder()

    public init() {}

    public func device(id: String) -> Device? {
        devices.first { $0.id == id }
    }

    /// By id or by QOM path, as `device_del` accepts either.
    public func device(idOrPath: String) -> Device? {
        devices.first { $0.id == idOrPath || $0.hasQOMPath(idOrPath) }
    }

    /// The QOM path of a device being created. An anonymous one takes the
    /// next number at once, as QEMU 7.2's `qdev_set_id` does (one counter
    /// for every driver, taken before the properties are set): a device_add
    /// that then fails still uses its number, so the next anonymous device
    /// is device[N+1] (QEMU 7.2: usb-kbd, a usb-storage without drive, a
    /// usb-kbd with an unknown property, usb-mouse make device[0] and
    /// device[3]). The plugin that realizes it reads the path through
    /// `request_qom_path`, so no plugin counts on its own.
    func takeQOMPath(for id: String?) -> String {
        if let id { return PeripheralPath.of(id: id) }
        defer { anonymousCount += 1 }
        return "/machine/peripheral-anon/device[\(anonymousCount)]"
    }

    func add(_ device: Device) {
        devices.append(device)
        if let id = device.id { peripheralOrder.added(id) } else { anonymousOrder.added(device.childName) }
    }

    /// The children of `/machine/peripheral` (named devices) or of
    /// `/machine/peripheral-anon`, in the order QEMU 7.2's `qom-list` gives.
    func qomChildren(named: Bool) -> [Device] {
        let live = devices.filter { ($0.id != nil) == named }
        let order = (named ? peripheralOrder : anonymousOrder).listed(live.lazy.map(\.childName))
        let byName = Dictionary(live.map { ($0.childName, $0) }, uniquingKeysWith: { first, _ in first })
        return order.compactMap { byName[$0] }
    }

    /// Called once the VM's plugins have realized their configured
    /// devices: the list takes the storage of an equal one another VM of
    /// the loop kept (`SharedDeviceLists`), or gives back the room it grew
    /// past its devices and is kept for the VMs after. (Appending doubles
    /// an array's room, so a VM whose config realized 5 or 6 devices kept
    /// room for 8: 216 bytes of each of 10,000 VMs.)
    func settle(sharingWith lists: SharedDeviceLists) {
        guard !devices.isEmpty else { return }
        if let shared = lists.equal(to: devices) {
            devices = shared
            return
        }
        if devices.capacity > devices.count {
            var fitted: [Device] = []
            fitted.reserveCapacity(devices.count)
            fitted.append(contentsOf: devices)
            devices = fitted
        }
        lists.keep(devices)
    }

    func markUnplugPending(_ qomPath: String) {
        if let i = devices.firstIndex(where: { $0.hasQOMPath(qomPath) }) { devices[i].unplugPending = true }
    }

    /// Replaces the devices `owner` has with `incoming` (an incoming
    /// migration brought that plugin's devices from the source).
    func replaceDevices(of owner: PluginLibrary, with incoming: [Device], anonymousCount sourceCount: Int) {
        devices.removeAll { $0.owner === owner }
        devices += incoming
        anonymousCount = max(anonymousCount, sourceCount)
        // As a target QEMU made them: from its command line, none removed.
        peripheralOrder = QOMChildOrder()
        anonymousOrder = QOMChildOrder()
    }

    /// `/machine/peripheral-anon/device[N]`'s next N.
    var anonymousDeviceCount: Int { anonymousCount }

    @discardableResult
    func remove(idOrPath: String) -> Device? {
        guard let i = devices.firstIndex(where: { $0.id == idOrPath || $0.hasQOMPath(idOrPath) }) else { return nil }
        let device = devices[i]
        let named = device.id != nil
        let before = devices.lazy.filter { ($0.id != nil) == named }.map(\.childName)
        if named { peripheralOrder.removed(device.childName, from: before) } else { anonymousOrder.removed(device.childName, from: before) }
        return devices.remove(at: i)
    }
}
