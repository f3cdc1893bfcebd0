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
        let ids = Array(vcpuThreadIDs.map(String.init).joined(separator: ", ").utf8)
        // Exactly its size: 10,000 VMs keep one each.
        let count = prefix.count + ids.count + suffix.count + 1
        return ContiguousArray(unsafeUninitializedCapacity: count) { buffer, initialized in
            var at = 0
            for part in [prefix, ids, suffix] {
                for byte in part { buffer[at] = CChar(bitPattern: byte); at += 1 }
            }
            buffer[at] = 0
            initialized = count
        }
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
