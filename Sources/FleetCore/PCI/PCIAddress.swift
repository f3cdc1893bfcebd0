import Foundation
import QMPWire

/// A PCI function's place on its bus: slot (0-31) and function (0-7),
/// QEMU's `devfn` (`slot << 3 | function`).
public struct PCIAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let slot: UInt8
    public let function: UInt8

    public init?(slot: Int, function: Int) {
        guard (0...31).contains(slot), (0...7).contains(function) else { return nil }
        self.slot = UInt8(slot)
        self.function = UInt8(function)
    }

    public init(devfn: UInt8) {
        slot = devfn >> 3
        function = devfn & 7
    }

    public var devfn: UInt8 { slot << 3 | function }

    /// `SS.F` in hex, as QEMU writes an `addr` property back.
    public var description: String { String(slot, radix: 16) + "." + String(function, radix: 16) }

    public static func < (a: PCIAddress, b: PCIAddress) -> Bool { a.devfn < b.devfn }
}

extension PCIAddress {
    /// Why an `addr` property value is refused: QEMU's
    /// `Property 'DRIVER.addr' doesn't take value 'TEXT'`.
    public struct Refusal: Error, Equatable {
        public let text: String
    }

    /// The `addr` property as QEMU 7.2's `set_pci_devfn` parses it:
    /// `sscanf(str, "%x.%x%n")`, else `sscanf(str, "%x%n")`, with nothing
    /// after, slot at most 0x1f and function at most 7. So glibc's `%x` rules
    /// hold: leading blanks, a sign, an optional `0x` (alone it reads as 0),
    /// and a value that wraps to 32 bits ("ffffffff00000003" is slot 3, "-0"
    /// slot 0). nil is "not set" (QEMU's -1: the bus picks the slot).
    public static func parse(property value: JSONValue) -> Result<PCIAddress?, Refusal> {
        guard let text = optionText(value) else { return .success(nil) }
        let bytes = Array(text.utf8)
        var slot: UInt32 = 0, function: UInt32 = 0
        var end: Int
        if let (s, afterSlot) = scanHex(bytes, from: 0), afterSlot < bytes.count, bytes[afterSlot] == UInt8(ascii: "."),
           let (f, afterFunction) = scanHex(bytes, from: afterSlot + 1) {
            (slot, function, end) = (s, f, afterFunction)
        } else if let (s, afterSlot) = scanHex(bytes, from: 0) {
            (slot, function, end) = (s, 0, afterSlot)
        } else {
            return .failure(Refusal(text: text))
        }
        guard end == bytes.count, let address = PCIAddress(slot: Int(slot), function: Int(function)) else {
            return .failure(Refusal(text: text))
        }
        return .success(address)
    }

    /// A `device_add` argument as the string QEMU's `qemu_opts_from_qdict`
    /// makes of it (numbers printed, booleans "on"/"off"); nil for the kinds
    /// it skips (null, objects, arrays), which leave the property unset.
    static func optionText(_ value: JSONValue) -> String? {
        switch value {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .uint(let u): return String(u)
        case .double(let d): return String(format: "%.17g", d)
        case .bool(let b): return b ? "on" : "off"
        case .null, .array, .object: return nil
        }
    }

    /// One glibc `%x` conversion at `start`: the value (as the `unsigned
    /// int` it is stored in) and where it stopped, or nil when nothing
    /// matched. strtoul's range: a value past 64 bits is ULONG_MAX.
    static func scanHex(_ bytes: [UInt8], from start: Int) -> (UInt32, Int)? {
        var i = start
        while i < bytes.count, [0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d].contains(bytes[i]) { i += 1 }
        var negative = false
        if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") {
            negative = bytes[i] == UInt8(ascii: "-")
            i += 1
        }
        var value: UInt64 = 0
        var digits = 0
        var overflow = false
        if i + 1 < bytes.count, bytes[i] == UInt8(ascii: "0"), bytes[i + 1] | 0x20 == UInt8(ascii: "x") {
            // glibc takes the prefix even with no digit after it ("0x" is 0).
            i += 2
            digits = 1
        }
        while i < bytes.count, let digit = hexDigit(bytes[i]) {
            let (shifted, o1) = value.multipliedReportingOverflow(by: 16)
            let (sum, o2) = shifted.addingReportingOverflow(UInt64(digit))
            if o1 || o2 { overflow = true }
            value = sum
            digits += 1
            i += 1
        }
        guard digits > 0 else { return nil }
        if overflow { value = UInt64.max }
        if negative && !overflow { value = 0 &- value }
        return (UInt32(truncatingIfNeeded: value), i)
    }

    private static func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
