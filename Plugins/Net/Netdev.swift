import QMPWire

/// A host network backend (`-netdev` / `netdev_add`): its id, its type and
/// the options it was created with. Nothing on the host is opened; the
/// backend exists only as state the guest's NIC can be bound to.
final class Netdev {
    let id: String
    /// The `Netdev` union's discriminator: "user", "tap", "stream", ...
    let type: String
    /// The members given besides `id` and `type`.
    let options: JSONObject
    var linkUp = true
    /// The NIC or hub port this backend is the peer of. QEMU lets a
    /// backend have one peer only ("it's in use").
    var peerName: String?
    /// netdev_del ran while a NIC still used it: QEMU keeps the backend
    /// alive behind the NIC (it is gone from every lookup) until the NIC goes.
    var isDeleted = false
    /// Its place among the VM's net clients, backends and NICs alike
    /// (`NetPlugin.nextClientNumber`): the order `info network` lists them in.
    var created = 0

    init(id: String, type: String, options: JSONObject) {
        self.id = id
        self.type = type
        self.options = options
    }
}
