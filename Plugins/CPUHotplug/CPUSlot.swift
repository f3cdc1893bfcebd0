import QMPWire

/// One possible CPU (x86) or CPU core (pseries): its position, as
/// `query-hotpluggable-cpus` shows it, and what fills it.
final class CPUSlot {
    enum Occupant {
        /// Created with the machine (`-smp N`).
        case boot
        /// Added with `device_add`; `id` is the device id, if any.
        case device(id: String?)
        /// Added with the old `cpu-add`.
        case cpuAdd
    }

    /// Position in QEMU's possible-CPUs list.
    let index: Int
    /// `CpuInstanceProperties`, in QAPI order.
    let props: JSONObject
    let vcpus: Int
    /// x86 only: the APIC ID the position gives.
    let apicID: Int
    /// The first vCPU index (`cpu-index`) of this slot.
    let firstCPUIndex: Int
    var occupant: Occupant?
    var qomPath: String?
    /// When the occupant was realized, counting from the boot CPUs: QEMU
    /// lists vCPUs (`query-cpus-fast`) in that order, not by position.
    var realizedOrder = 0
    var unplugRequested = false

    init(index: Int, props: JSONObject, vcpus: Int, apicID: Int, firstCPUIndex: Int) {
        self.index = index
        self.props = props
        self.vcpus = vcpus
        self.apicID = apicID
        self.firstCPUIndex = firstCPUIndex
    }

    var isBoot: Bool {
        if case .boot = occupant { return true }
        return false
    }

    /// The id `device_del` knows this CPU by.
    var deviceName: String? {
        if case .device(let id) = occupant { return id ?? qomPath }
        return nil
    }

    /// `query-hotpluggable-cpus`' entry.
    func info(type: String) -> JSONValue {
        var entry: JSONObject = ["type": .string(type), "vcpus-count": .int(Int64(vcpus)), "props": .object(props)]
        if let qomPath { entry["qom-path"] = .string(qomPath) }
        return .object(entry)
    }
}
