import QMPPluginKit
import QMPWire

/// `virtio-rng-pci`: a virtio entropy device reading an rng backend
/// object (`rng=ID`), or, without one, a default `rng-builtin` of its own,
/// as QEMU 7.2 creates. The host places it on the PCI bus and answers
/// `query-pci` from QEMU's recorded entry; this checks its properties in
/// QEMU's order (each as it is set, then `virtio_rng_device_realize`'s
/// checks) and keeps the backend referenced while the device exists.
final class VirtioRNGDevice: GuestUnpluggedDevice {
    let id: String?
    let qomPath: String
    /// The backend it reads; nil for its own default `rng-builtin`.
    let backend: RngBackend?

    init(id: String?, qomPath: String, backend: RngBackend?) {
        self.id = id
        self.qomPath = qomPath
        self.backend = backend
    }
}

extension ChardevPlugin {
    static let rngDriver = "virtio-rng-pci"
    /// QEMU's defaults: `period` in ms, `max-bytes` per period.
    static let rngDefaultPeriod: UInt32 = 1 << 16

    static func register(rngDevice plugin: PluginRegistry<ChardevPlugin>) {
        let properties: [(String, String)] = [("rng", "link<rng-backend>"), ("max-bytes", "uint64"), ("period", "uint32"),
                                              ("addr", "int32"), ("vectors", "uint32"), ("ioeventfd", "bool"),
                                              ("disable-legacy", "OnOffAuto"), ("disable-modern", "bool")]
        plugin.device(["name": .string(rngDriver), "parent": "virtio-rng-pci-base", "bus": "PCI", "hotpluggable": true,
                       "properties": .array(properties.map { ["name": .string($0.0), "type": .string($0.1)] })],
                      addReporting: { this, device, props in this.addRNGDevice(device, props) },
                      remove: { this, id in this.removeRNGDevice(id) })
    }

    /// The device, and its values as QEMU's qom-get reads them: `rng` the
    /// backend's canonical path (or its own default backend's), `period`
    /// and `max-bytes`.
    func addRNGDevice(_ device: NewDevice, _ props: JSONObject) -> Result<JSONObject, QMPError> {
        var backend: RngBackend?
        var period = Int64(Self.rngDefaultPeriod)
        var maxBytes = UInt64(Int64.max)
        for (key, value) in props {
            guard let text = QemuOptsText.of(value) else { continue }
            switch key {
            case "rng":
                guard !text.isEmpty else { backend = nil; continue }
                guard let found = rngBackends[text] else {
                    // QEMU resolves the name anywhere in the QOM tree; a
                    // chardev (/chardevs/NAME) is found, and is not an
                    // rng-backend. Other plugins' objects are not seen here.
                    return .failure(chardev(text) != nil ? .generic("Invalid parameter type for 'rng', expected: rng-backend")
                                                         : .deviceNotFound(text))
                }
                backend = found
            case "period":
                switch QemuOptsText.uint32(text, name: "period") {
                case .success(let fitted): period = Int64(fitted)
                case .failure(let error): return .failure(error)
                }
            case "max-bytes":
                guard let n = UInt64(text) ?? Int64(text).map({ UInt64(bitPattern: $0) }) else {
                    return .failure(.generic("Parameter 'max-bytes' expects integer"))
                }
                maxBytes = n
            default: continue
            }
        }
        guard period > 0 else { return .failure(.generic("'period' parameter expects a positive integer")) }
        guard maxBytes <= UInt64(Int64.max) else {
            return .failure(.generic("'max-bytes' parameter must be non-negative, and less than 2^63"))
        }
        backend?.users += 1
        rngDevices.append(VirtioRNGDevice(id: device.id, qomPath: device.qomPath, backend: backend))
        let rng = backend.map { "/objects/\($0.id)" } ?? "\(device.qomPath)/virtio-backend/default-backend"
        return .success(["rng": .string(rng), "period": .int(period), "max-bytes": .uint(maxBytes)])
    }

    /// Unplugged once the guest lets go, as the virtio serial devices are.
    func removeRNGDevice(_ idOrPath: String) -> Result<Void, QMPError> {
        unplugWhenGuestLetsGo(idOrPath, from: \.rngDevices) { this, device in this.releaseRNGDevice(device) }
    }

    func releaseRNGDevice(_ device: VirtioRNGDevice) {
        rngDevices.removeAll { $0 === device }
        guard let backend = device.backend else { return }
        backend.users -= 1
        if backend.users == 0 && backend.isDeleted { backend.release() }
    }
}
