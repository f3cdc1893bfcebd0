import QMPWire

/// A device that `device_add` plugs and `device_del` takes back: what a
/// plugin's device driver shares with qdev, so that `PluginVM.unplug` can
/// answer device_del as QEMU does.
public protocol PeripheralDevice: AnyObject {
    /// The `id` given to device_add; nil for an anonymous device.
    var deviceID: String? { get }
    /// Where QOM has it (see `PeripheralPaths`); device_del takes it as well as the id.
    var qomPath: String { get }
    /// device_del was requested; the guest has not released the device yet.
    var unplugPending: Bool { get set }
}

/// qdev's QOM paths for the devices a user creates: `/machine/peripheral/ID`,
/// or, without an id, `/machine/peripheral-anon/device[N]` with N counting
/// from 0 in creation order.
///
/// ```swift
/// var paths = PeripheralPaths()
/// paths.path(for: "nic0")   // "/machine/peripheral/nic0"
/// paths.path(for: nil)      // "/machine/peripheral-anon/device[0]"
/// paths.path(for: nil)      // "/machine/peripheral-anon/device[1]"
/// ```
public struct PeripheralPaths: Sendable {
    private var anonymousCount = 0

    public init() {}

    /// The path of a new device with `id`; an anonymous one takes the next number.
    public mutating func path(for id: String?) -> String {
        if let id { return "/machine/peripheral/\(id)" }
        defer { anonymousCount += 1 }
        return "/machine/peripheral-anon/device[\(anonymousCount)]"
    }
}

extension PluginVM {
    /// device_del of `idOrPath` among `devices`, answered as QEMU 7.2 answers
    /// it: DeviceNotFound, or "already in the process of unplug" while the
    /// guest has not let go, or success at once. The simulated guest lets go
    /// `delay` ms later: then `release` forgets the device and DEVICE_DELETED
    /// goes out naming it as the client did.
    public func unplug<Device: PeripheralDevice>(_ idOrPath: String, from devices: [Device], afterMilliseconds delay: UInt64,
                                                 release: @escaping (Device) -> Void) -> Result<Void, QMPError> {
        guard let device = devices.first(where: { $0.deviceID == idOrPath || $0.qomPath == idOrPath }) else {
            return .failure(.deviceNotFound(idOrPath))
        }
        guard !device.unplugPending else {
            return .failure(.generic("Device \(device.deviceID ?? device.qomPath) is already in the process of unplug"))
        }
        device.unplugPending = true
        startTimer(afterMilliseconds: delay) { [weak self] in
            release(device)
            self?.deviceDeleted(idOrPath)
        }
        return .success(())
    }
}
