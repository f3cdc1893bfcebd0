import QMPWire
import SharedValues

/// The machine description plugins read, written once per kind of machine:
/// `vm_machine_json_shared`'s text (no vCPU thread ids) is the kind's, and
/// `vm_machine_json`'s per-VM C string is the kind's text with the VM's
/// ids put in.
///
/// The description of the VMs of one template differs only in
/// `vcpu-thread-ids` (they follow from each VM's place in creation order):
/// building its `JSONValue` and writing it for each of 10,000 VMs was 3 %
/// of making them, and keeping it was 336 bytes of each (the kit's plugins
/// now read the shared text and the ids apart, and a VM writes its own
/// only for a plugin that asks for it). The text is the one
/// `MachineSpec.descriptionJSON` writes, byte for byte; the kit reads it
/// back the same way (QMPPluginKit's `MachineDescriptionCache`).
///
/// The most recent kinds are kept for the process (a fleet has few kinds
/// of machine) in a `RecentValues`: both loop threads make VMs. Each VM
/// keeps its own kind too, so the shared text lives as long as any VM of
/// it, whatever the cache drops.
enum MachineDescriptionText {
    /// One kind of machine's text.
    final class Kind: Sendable {
        let machine: MachineSpec
        let qemuVersion: QEMUVersion
        /// The text cut around its empty `vcpu-thread-ids` array: up to and
        /// including its `[`, and from its `]`; nil when the text has no
        /// such array (then each VM's is written whole).
        private let parts: (prefix: [UInt8], suffix: [UInt8])?
        /// The text with no ids, NUL-terminated (`vm_machine_json_shared`).
        let sharedCString: ContiguousArray<CChar>

        fileprivate init(machine: MachineSpec, qemuVersion: QEMUVersion) {
            self.machine = machine
            self.qemuVersion = qemuVersion
            let text = Array(machine.descriptionJSON(qemuVersion: qemuVersion, vcpuThreadIDs: []).jsonText.utf8)
            sharedCString = ContiguousArray(unsafeUninitializedCapacity: text.count + 1) { buffer, initialized in
                for (at, byte) in text.enumerated() { buffer[at] = CChar(bitPattern: byte) }
                buffer[text.count] = 0
                initialized = text.count + 1
            }
            let key = Array(#""vcpu-thread-ids": []"#.utf8)
            parts = text.indices.first { text[$0...].starts(with: key) }.map { start in
                let close = start + key.count - 1
                return (Array(text[..<close]), Array(text[close...]))
            }
        }

        /// Its text with `vcpuThreadIDs`, NUL-terminated (`vm_machine_json`).
        func cString(vcpuThreadIDs: [Int]) -> ContiguousArray<CChar> {
            guard let (prefix, suffix) = parts else {
                return ContiguousArray(machine.descriptionJSON(qemuVersion: qemuVersion, vcpuThreadIDs: vcpuThreadIDs).jsonText.utf8CString)
            }
            // Exactly its size: a VM keeps it as long as it lives. The ids
            // are written in place (each joined as a String first was 3 k
            // instructions of every VM).
            let idBytes = vcpuThreadIDs.enumerated().reduce(0) { $0 + ($1.offset > 0 ? 2 : 0) + MachineDescriptionText.decimalLength($1.element) }
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

    /// What a kind's text follows from.
    private struct KindKey: Equatable, Sendable {
        let machine: MachineSpec
        let qemuVersion: QEMUVersion
    }

    /// Kinds of machine kept: more than a fleet's templates usually have
    /// (a ninth kind's VMs each write their own text, as before sharing).
    static let capacity = 8

    private static let kinds = RecentValues<KindKey, Kind>(capacity: capacity)

    /// `machine`'s kind, the one kept when there is one.
    static func kind(for machine: MachineSpec, qemuVersion: QEMUVersion) -> Kind {
        kinds.value(for: KindKey(machine: machine, qemuVersion: qemuVersion)) {
            Kind(machine: machine, qemuVersion: qemuVersion)
        }
    }

    /// `machine`'s description with `vcpuThreadIDs`, NUL-terminated.
    static func cString(for machine: MachineSpec, qemuVersion: QEMUVersion, vcpuThreadIDs: [Int]) -> ContiguousArray<CChar> {
        kind(for: machine, qemuVersion: qemuVersion).cString(vcpuThreadIDs: vcpuThreadIDs)
    }
}
