import QMPWire

/// HMP `info pci`, as QEMU 7.2's `hmp_info_pci` prints `query-pci`: each
/// device's address, class, ids, IRQ and BARs (an unmapped BAR's address is
/// -1, printed as the unsigned value it is, and its end wraps as QEMU's
/// does), a bridge's ranges and the devices behind it.
enum PCIInfoText {
    static func text(_ reply: JSONValue) -> String {
        var text = ""
        for bus in reply.arrayValue ?? [] {
            for device in bus["devices"]?.arrayValue ?? [] { print(device, into: &text) }
        }
        return text
    }

    private static func print(_ device: JSONValue, into text: inout String) {
        let slot = number(device["slot"])
        text += "  Bus \(padded(String(number(device["bus"])), 2)), device \(padded(String(slot), 3)), function \(number(device["function"])):\n"
        let classInfo = device["class_info"]
        text += "    " + (classInfo?["desc"]?.stringValue ?? "Class " + zeroPadded(String(number(classInfo?["class"])), 4))
        let id = device["id"]
        text += ": PCI device \(hex(id?["vendor"], 4)):\(hex(id?["device"], 4))\n"
        if id?["subsystem-vendor"] != nil, id?["subsystem"] != nil {
            text += "      PCI subsystem \(hex(id?["subsystem-vendor"], 4)):\(hex(id?["subsystem"], 4))\n"
        }
        if let irq = device["irq"]?.int64Value {
            let pin = UInt8(truncatingIfNeeded: Int64(UInt8(ascii: "A")) + number(device["irq_pin"]) - 1)
            text += "      IRQ \(irq), pin \(Character(Unicode.Scalar(pin)))\n"
        }
        let bridge = device["pci_bridge"]
        if let bus = bridge?["bus"] {
            text += "      BUS \(number(bus["number"])).\n"
            text += "      secondary bus \(number(bus["secondary"])).\n"
            text += "      subordinate bus \(number(bus["subordinate"])).\n"
            text += "      IO range [0x\(hex(bus["io_range"]?["base"], 4)), 0x\(hex(bus["io_range"]?["limit"], 4))]\n"
            text += "      memory range [0x\(hex(bus["memory_range"]?["base"], 8)), 0x\(hex(bus["memory_range"]?["limit"], 8))]\n"
            text += "      prefetchable memory range [0x\(hex(bus["prefetchable_range"]?["base"], 8)), 0x\(hex(bus["prefetchable_range"]?["limit"], 8))]\n"
        }
        for region in device["regions"]?.arrayValue ?? [] {
            let address = UInt64(bitPattern: number(region["address"]))
            let end = address &+ UInt64(bitPattern: number(region["size"])) &- 1
            text += "      BAR\(number(region["bar"])): "
            if region["type"]?.stringValue == "io" {
                text += "I/O at 0x\(hex(address, 4)) [0x\(hex(end, 4))].\n"
            } else {
                let bits = region["mem_type_64"]?.boolValue == true ? 64 : 32
                let prefetch = region["prefetch"]?.boolValue == true ? " prefetchable" : ""
                text += "\(bits) bit\(prefetch) memory at 0x\(hex(address, 8)) [0x\(hex(end, 8))].\n"
            }
        }
        text += "      id \"\(device["qdev_id"]?.stringValue ?? "")\"\n"
        for child in bridge?["devices"]?.arrayValue ?? [] { print(child, into: &text) }
    }

    private static func number(_ value: JSONValue?) -> Int64 { value?.int64Value ?? 0 }

    private static func hex(_ value: JSONValue?, _ width: Int) -> String {
        hex(UInt64(bitPattern: number(value)), width)
    }

    /// `%0<width>PRIx64`.
    private static func hex(_ value: UInt64, _ width: Int) -> String {
        zeroPadded(String(value, radix: 16), width)
    }

    private static func zeroPadded(_ digits: String, _ width: Int) -> String {
        digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    /// `%<width>` of a number: spaces before it.
    private static func padded(_ digits: String, _ width: Int) -> String {
        digits.count >= width ? digits : String(repeating: " ", count: width - digits.count) + digits
    }
}
