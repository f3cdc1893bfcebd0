import QMPWire

/// A device that `device_add` plugs and `device_del` takes back: what a
/// plugin's device driver shares with qdev, so that `PluginVM.unplug` can
/// answer device_del as QEMU does.
public protocol PeripheralDevice: AnyObject {
    /// The `id` given to device_add; nil for an anonymous device.
    var deviceID: String? { get }
    /// Where QOM has it (`NewDevice.qomPath`, the host's); device_del takes it as well as the id.
    var qomPath: String { get }
    /// device_del was requested; the guest has not released the device yet.
    var unplugPending: Bool { get set }
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
