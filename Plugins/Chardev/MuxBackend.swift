/// `mux`: a chardev over another one (its base), which guest output goes
/// through. In QEMU 7.2 the mux becomes the base's only user, so the base
/// is "in use" for another mux or device and "busy" for chardev-remove;
/// and a mux itself is always busy (`qemu_chr_is_busy` counts its
/// frontends from 0), so neither can be removed. `query-chardev` shows "mux".
final class MuxBackend: ChardevBackend {
    private weak var base: Chardev?
    private let mux: MuxClaim
    var filename: String { "mux" }

    /// Claims `base` (the caller checked it is free).
    init(base: Chardev) {
        self.base = base
        mux = MuxClaim()
        base.muxedBy = mux
    }

    func write(_ bytes: [UInt8]) { base?.write(bytes) }

    /// The base is free again (a VM's end, a migration that drops the mux).
    func close() {
        if base?.muxedBy === mux { base?.muxedBy = nil }
        base = nil
    }
}

/// The mark a mux leaves on its base chardev.
final class MuxClaim {}
