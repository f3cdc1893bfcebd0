import QMPPluginKit
import QMPWire

/// A device `device_del` takes by its id or the QOM path the host gave it,
/// and that leaves only once the simulated guest lets go of it (a
/// virtio-serial port, a virtio-rng device).
protocol GuestUnpluggedDevice: AnyObject {
    var id: String? { get }
    var qomPath: String { get }
}

extension ChardevPlugin {
    /// `device_del` of the device of `devices` named `idOrPath`: once the
    /// simulated guest lets go, `release` frees it and DEVICE_DELETED
    /// follows, unless it went meanwhile (the VM's end, a second unplug).
    /// One path for every such device, so each is found and released alike.
    func unplugWhenGuestLetsGo<Device: GuestUnpluggedDevice>(
        _ idOrPath: String, from devices: KeyPath<ChardevPlugin, [Device]>,
        release: @escaping (ChardevPlugin, Device) -> Void
    ) -> Result<Void, QMPError> {
        guard let device = self[keyPath: devices].first(where: { $0.id == idOrPath || $0.qomPath == idOrPath }) else {
            return .failure(.deviceNotFound(idOrPath))
        }
        vm.startTimer(afterMilliseconds: ChardevPlugin.guestUnplugMilliseconds) { [weak self] in
            guard let self, self[keyPath: devices].contains(where: { $0 === device }) else { return }
            release(self, device)
            self.vm.deviceDeleted(idOrPath)
        }
        return .success(())
    }
}
