#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import QMPWire

/// A `device_add` property value as the device sees it in QEMU 7.2.
///
/// QMP's `device_add` does not hand its arguments to the device as JSON: it
/// first turns them into QemuOpts (`qemu_opts_from_qdict_entry` in
/// util/qemu-option.c), which keeps only text. So `3` and `"3"` are the same
/// property, a bool becomes `on`/`off`, a double is printed with `%.17g`
/// (`qnum_to_string`: `0.1` is `0.10000000000000001`, `1.0` is `1`), and a
/// list, object or null is silently dropped (the device is created as if the
/// property were absent). Every parse and every error message a device gives
/// ("Property 'e1000.netdev' can't find value 'on'") starts from this text,
/// so each plugin reads its properties through this one printer.
///
/// ```swift
/// QemuOptsText.of(.bool(true))     // "on"
/// QemuOptsText.of(.array([1]))     // nil: ignored, as QEMU does
/// ```
public enum QemuOptsText {
    /// The QemuOpts text of `value`, or nil when QemuOpts ignores it.
    public static func of(_ value: JSONValue) -> String? {
        switch value {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .uint(let u): return String(u)
        case .double(let d): return printed(d)
        case .bool(let b): return b ? "on" : "off"
        case .null, .array, .object: return nil
        }
    }

    /// A `uint32` property's text as QEMU 7.2 reads it (`visit_type_uint32`
    /// of the string input visitor), with its errors: text that is no
    /// integer, then one out of range.
    ///
    /// ```swift
    /// QemuOptsText.uint32("7", name: "nr")    // .success(7)
    /// QemuOptsText.uint32("-1", name: "nr")   // "Parameter 'nr' expects uint32_t"
    /// ```
    public static func uint32(_ text: String, name: String) -> Result<UInt32, QMPError> {
        guard let n = Int64(text) else { return .failure(.generic("Parameter '\(name)' expects integer")) }
        guard let fitted = UInt32(exactly: n) else { return .failure(.generic("Parameter '\(name)' expects uint32_t")) }
        return .success(fitted)
    }

    /// `%.17g`, as `qnum_to_string` prints a double.
    static func printed(_ d: Double) -> String {
        var buffer = [CChar](repeating: 0, count: 32)
        _ = withVaList([d]) { vsnprintf(&buffer, buffer.count, "%.17g", $0) }
        return String(cString: buffer)
    }
}
