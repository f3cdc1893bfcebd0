#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import QMPWire

/// An `ImageInfo` as QEMU 7.2's `bdrv_image_info_dump` prints it (`info
/// block -v`'s "Images:", qemu-img's `info`): sizes in `size_to_str`'s
/// words, the format-specific data as `dump_qobject` walks it (members in
/// QDict order, `-` in a key printed as a space). Snapshot tables are not
/// printed: docs/qemu-differences.md.
enum ImageInfoText {
    static func text(_ image: JSONValue) -> String {
        let virtualSize = image["virtual-size"]?.int64Value ?? 0
        let diskSize = image["actual-size"]?.int64Value.map { sizeText(UInt64(bitPattern: $0)) } ?? "unavailable"
        var text = "image: \(image["filename"]?.stringValue ?? "")\n"
            + "file format: \(image["format"]?.stringValue ?? "")\n"
            + "virtual size: \(sizeText(UInt64(bitPattern: virtualSize))) (\(virtualSize) bytes)\n"
            + "disk size: \(diskSize)\n"
        if image["encrypted"]?.boolValue == true { text += "encrypted: yes\n" }
        if let cluster = image["cluster-size"]?.int64Value { text += "cluster_size: \(cluster)\n" }
        if image["dirty-flag"]?.boolValue == true { text += "cleanly shut down: no\n" }
        if let backing = image["backing-filename"]?.stringValue {
            text += "backing file: \(backing)"
            if let full = image["full-backing-filename"]?.stringValue {
                if full != backing { text += " (actual path: \(full))" }
            } else {
                text += " (cannot determine actual path)"
            }
            text += "\n"
            if let format = image["backing-filename-format"]?.stringValue { text += "backing file format: \(format)\n" }
        }
        if let data = image["format-specific"]?["data"] {
            text += "Format specific information:\n"
            dump(data, indentation: 1, into: &text)
        }
        return text
    }

    /// dump_qobject: a scalar on its key's line, a dict's or list's members
    /// on their own lines, four spaces deeper.
    private static func dump(_ value: JSONValue, indentation: Int, into text: inout String) {
        switch value {
        case .object(let object):
            QDictOrder.withWriteOrder(of: object) { order in
                for index in order {
                    let member = object.members[index]
                    let composite = member.value.objectValue != nil || member.value.arrayValue != nil
                    let key = String(member.key.map { $0 == "-" ? " " : $0 })
                    text += String(repeating: " ", count: indentation * 4) + key + (composite ? ":\n" : ": ")
                    dump(member.value, indentation: indentation + 1, into: &text)
                    if !composite { text += "\n" }
                }
            }
        case .array(let elements):
            for (index, element) in elements.enumerated() {
                let composite = element.objectValue != nil || element.arrayValue != nil
                text += String(repeating: " ", count: indentation * 4) + "[\(index)]:" + (composite ? "\n" : " ")
                dump(element, indentation: indentation + 1, into: &text)
                if !composite { text += "\n" }
            }
        case .string(let string): text += string
        case .bool(let bool): text += bool ? "true" : "false"
        case .int(let int): text += "\(int)"
        case .uint(let uint): text += "\(uint)"
        case .double(let double): text += formatted("%f", double)
        case .null: break
        }
    }

    /// QEMU's size_to_str: the largest binary unit under which the value
    /// stays below 1000 of it, three significant digits ("196 KiB", "20 GiB").
    static func sizeText(_ value: UInt64) -> String {
        let suffixes = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
        var exponent: Int32 = 0
        _ = frexp(Double(value) / (1000.0 / 1024.0), &exponent)
        let unit = max(0, min(suffixes.count - 1, Int((exponent - 1) / 10)))
        return formatted("%0.3g", Double(value) / Double(UInt64(1) << (unit * 10))) + " \(suffixes[unit])B"
    }

    /// One double through C's printf conversion (`%g` has no Swift spelling).
    private static func formatted(_ format: String, _ value: Double) -> String {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buffer in
            let count = withVaList([value]) { vsnprintf(buffer.baseAddress, 64, format, $0) }
            return String(decoding: UnsafeRawBufferPointer(start: buffer.baseAddress, count: Int(max(0, min(count, 63)))), as: UTF8.self)
        }
    }
}
