import QMPPluginKit
import QMPWire

/// A character device: an id, its backend, an optional log file that
/// sees everything the backend sees, and the device using it, if any.
final class Chardev {
    let id: String
    var backend: any ChardevBackend
    var log: FileWriter?
    var frontend: ChardevFrontend?
    /// Set while a mux chardev is over this one (`MuxBackend`): the mux is
    /// its user, as a device would be.
    var muxedBy: MuxClaim?
    /// The `ChardevBackend` union it was created with (for live migration).
    var spec: QAPI.ChardevBackend

    init(id: String, backend: any ChardevBackend, log: FileWriter?, spec: QAPI.ChardevBackend) {
        self.id = id
        self.backend = backend
        self.log = log
        self.spec = spec
    }

    /// Guest output: to the backend and the log.
    func write(_ bytes: [UInt8]) {
        backend.write(bytes)
        log?.write(bytes)
    }

    /// In use by a device or a mux: another mux or device cannot take it.
    var isInUse: Bool { frontend != nil || muxedBy != nil }

    /// QEMU's `qemu_chr_is_busy`: in use, or a mux (always busy in 7.2).
    var isBusy: Bool { isInUse || backend is MuxBackend }

    func close() { close(then: {}) }

    /// Closes, then `done` once the backend's host files are gone (for
    /// chardev-remove's reply: QEMU's has the socket file removed).
    func close(then done: @escaping () -> Void) {
        log?.close()
        log = nil
        backend.close(then: done)
    }
}

/// The device a chardev is attached to: a serial port or a virtio serial
/// port. While one is attached, chardev-remove says the chardev is busy.
final class ChardevFrontend {
    /// The device id (nil for an anonymous device).
    let deviceID: String?
    let driver: String
    /// `frontend-open` in query-chardev: a UART is always open; a virtio
    /// serial port is open while the guest has it open.
    var isOpen: Bool

    init(deviceID: String?, driver: String, isOpen: Bool) {
        self.deviceID = deviceID
        self.driver = driver
        self.isOpen = isOpen
    }
}
