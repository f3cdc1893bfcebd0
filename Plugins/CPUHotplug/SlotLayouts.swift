import QMPWire
import SharedValues

/// What a topology's possible-CPU slots are made of, made once and shared
/// by the VMs of that topology: each VM makes its own `CPUSlot`s (they
/// change as CPUs come and go), from the same properties and boot CPUs'
/// QOM paths, whose storage (a `JSONObject`'s members, a `String`'s bytes)
/// every copy shares. Each VM wrote its own: about 300 bytes of each VM of
/// one vCPU (heaptrack, the bench's plugin set).
///
/// The most recent few layouts are kept for the process (a fleet has few
/// topologies) in a `RecentValues`: both loop threads make VMs.
enum SlotLayouts {
    /// One slot as its topology places it.
    struct Slot: Sendable {
        /// `CpuInstanceProperties`, in QAPI order.
        let props: JSONObject
        let vcpus: Int
        let apicID: Int
        let firstCPUIndex: Int
        /// The QOM path of the boot CPU in it; nil for a slot empty at boot.
        let bootPath: String?
    }

    private struct Key: Equatable, Sendable {
        let topology: CPUTopology
        let numa: Bool
        let spapr: Bool
    }

    /// Layouts kept: a fleet's templates seldom have more topologies (a
    /// ninth is laid out again for each of its VMs, as before sharing).
    static let capacity = 8

    private static let kept = RecentValues<Key, [Slot]>(capacity: capacity)

    /// The layout of `topology`, made by `make` unless one is kept.
    static func layout(of topology: CPUTopology, numa: Bool, spapr: Bool, make: () -> [Slot]) -> [Slot] {
        kept.value(for: Key(topology: topology, numa: numa, spapr: spapr), orMake: make)
    }
}
