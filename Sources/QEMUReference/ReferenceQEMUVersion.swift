import QMPWire

/// The version of the QEMU binary the probe data was recorded from
/// (`query-version` of `scripts/record-qemu-data`'s QEMU, with its
/// distribution `package` string, e.g. "Debian 1:7.2+dfsg-7+deb12u18+b3").
///
/// `qmpfleet-emulator` stands in for that binary, so it greets and answers
/// `query-version` as it does; libvirt records both in its capabilities
/// cache. A fleet keeps its configured `qemu-version`.
public enum ReferenceQEMUVersion {
    /// Nil when the recorded data is missing or has no version.
    public static var recorded: QEMUVersion? {
        guard let reply = QEMUReferenceData.shared?.version,
              let qemu = reply["qemu"], let major = qemu["major"]?.int64Value,
              let minor = qemu["minor"]?.int64Value, let micro = qemu["micro"]?.int64Value
        else { return nil }
        return QEMUVersion(major: Int(major), minor: Int(minor), micro: Int(micro), package: reply["package"]?.stringValue ?? "")
    }
}
