import QMPWire
import Synchronization

/// The machine description plugins read through `vm_machine_json`, as the
/// C string each VM keeps: written once per kind of machine, then per VM
/// only its vCPU thread ids put in.
///
/// The description of the VMs of one template differs only in
/// `vcpu-thread-ids` (they follow from each VM's place in creation order):
/// building its `JSONValue` and writing it for each of 10,000 VMs was 3 %
/// of making them. The text is the one `MachineSpec.descriptionJSON` writes,
/// byte for byte; the kit reads it back the same way (QMPPluginKit's
/// `MachineDescriptionCache`).
///
/// The texts are kept for the process (a fleet has few kinds of machine,
/// the most recent first), locked: both loop threads make VMs. The lock is
/// held only to compare a machine and copy out two arrays.
enum MachineDescriptionText {
    /// A kind of machine and its text around the ids.
    private struct Entry {
        let machine: MachineSpec
        let qemuVersion: QEMUVersion
        /// Up to and including `"vcpu-thread-ids": [`.
        let prefix: [UInt8]
        /// From the array's `]` to the end.
        let suffix: [UInt8]
    }

    /// Kinds of machine kept.
    static let capacity = 8

    private static let entries = Mutex<[Entry]>([])

    /// `machine`'s description with `vcpuThreadIDs`, NUL-terminated.
    static func cString(for machine: MachineSpec, qemuVersion: QEMUVersion, vcpuThreadIDs: [Int]) -> ContiguousArray<CChar> {
        let kept = entries.withLock { entries in
            entries.first { $0.machine == machine && $0.qemuVersion == qemuVersion }.map { ($0.prefix, $0.suffix) }
        }
        guard let (prefix, suffix) = kept ?? split(machine, qemuVersion: qemuVersion) else {
            return ContiguousArray(machine.descriptionJSON(qemuVersion: qemuVersion, vcpuThreadIDs: vcpuThreadIDs).jsonText.utf8CString)
        }
        // Exactly its size: 10,000 VMs keep one each. The ids are written
        // in place (each joined as a String first was 3 k instructions of
        // every VM).
        let idBytes = vcpuThreadIDs.enumerated().reduce(0) { $0 + ($1.offset > 0 ? 2 : 0) + decimalLength($1.element) }
        let count = prefix.count + idBytes + suffix.count + 1
        return ContiguousArray(unsafeUninitializedCapacity: count) { buffer, initialized in
            var at = 0
            func put(_ byte: UInt8) {
                buffer[at] = CChar(bitPattern: byte)
                at += 1
            }
            for byte in prefix { put(byte) }
            for (n, id) in vcpuThreadIDs.enumerated() {
                if n > 0 {
                    put(UInt8(ascii: ","))
                    put(UInt8(ascii: " "))
                }
                if id < 0 { put(UInt8(ascii: "-")) }
                let magnitude = id.magnitude
                var scale: UInt = 1
                while magnitude / scale >= 10 { scale *= 10 }
                while scale > 0 {
                    put(UInt8(ascii: "0") + UInt8(magnitude / scale % 10))
                    scale /= 10
                }
            }
            for byte in suffix { put(byte) }
            put(0)
            initialized = count
        }
    }

    /// Bytes of `value` in decimal, its sign included.
    static func decimalLength(_ value: Int) -> Int {
        var length = value < 0 ? 2 : 1
        var rest = value.magnitude
        while rest >= 10 {
            rest /= 10
            length += 1
        }
        return length
    }

    /// The text without ids, cut around its empty array, and kept.
    private static func split(_ machine: MachineSpec, qemuVersion: QEMUVersion) -> ([UInt8], [UInt8])? {
        let text = Array(machine.descriptionJSON(qemuVersion: qemuVersion, vcpuThreadIDs: []).jsonText.utf8)
        let key = Array(#""vcpu-thread-ids": []"#.utf8)
        guard let start = text.indices.first(where: { text[$0...].starts(with: key) }) else { return nil }
        let close = start + key.count - 1
        let parts = (Array(text[..<close]), Array(text[close...]))
        entries.withLock { entries in
            entries.insert(Entry(machine: machine, qemuVersion: qemuVersion, prefix: parts.0, suffix: parts.1), at: 0)
            if entries.count > capacity { entries.removeLast() }
        }
        return parts
    }
}
