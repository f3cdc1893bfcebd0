import QMPWire

/// The host's text for a file `PluginVM.openFile` could not open, "Could
/// not open 'X': reason": many QEMU commands word their own error around
/// just the reason (the strerror part), so plugins take it apart here.
public enum OpenFailure {
    /// The part after the last `': `, or the whole text when there is none.
    public static func reason(_ text: String) -> String {
        let bytes = Array(text.utf8), marker = Array("': ".utf8)
        guard bytes.count >= marker.count else { return text }
        for start in stride(from: bytes.count - marker.count, through: 0, by: -1)
        where Array(bytes[start..<start + marker.count]) == marker {
            return String(decoding: bytes[(start + marker.count)...], as: UTF8.self)
        }
        return text
    }
}
