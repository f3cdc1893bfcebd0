import QMPPluginKit
/// A guest network card created by `device_add` (or the VM's config): its
/// net client name, its MAC, its backend and, on virtio-net, the receive
/// filter the guest driver programs.
final class NIC {
    /// Its id (nil for an anonymous device) and QOM path (a named
    /// device's is written when asked for: `NewDevice`).
    let device: NewDevice
    /// The device id; nil for an anonymous device.
    var id: String? { device.id }
    /// The net client name: the id, or "<model>.<n>" as QEMU's `assign_name` makes it.
    let name: String
    let model: NICModel
    let mac: MACAddress
    /// The QOM path of the device.
    var qomPath: String { device.qomPath }
    var netdev: Netdev?
    var linkUp = true
    /// nil on models without rx-filter support.
    var rxFilter: RxFilter?
    /// Like QEMU's `rxfilter_notify_enabled`: one NIC_RX_FILTER_CHANGED,
    /// then none until a client has queried this NIC's filter.
    var rxFilterNotifyEnabled = true
    /// device_del was requested; the guest has not released it yet.
    var unplugPending = false
    /// Its place among the VM's net clients (`Netdev.created`).
    var created = 0

    init(_ device: NewDevice, name: String, model: NICModel, mac: MACAddress, netdev: Netdev?) {
        self.device = device
        self.name = name
        self.model = model
        self.mac = mac
        self.netdev = netdev
        rxFilter = model.hasRxFilter ? RxFilter(mac: mac) : nil
    }

    /// Where NIC_RX_FILTER_CHANGED says the filter lives: virtio-net
    /// reports its inner virtio device.
    var rxFilterPath: String { qomPath + "/virtio-backend" }
}
