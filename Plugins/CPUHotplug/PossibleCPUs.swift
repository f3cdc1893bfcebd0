import QMPWire

/// The board's possible CPUs (`possible_cpu_arch_ids`) and
/// `query-hotpluggable-cpus`, which lists them last first.
extension CPUHotplugPlugin {
    /// QOM path of boot CPU `index` on pc/q35: the first CPU is the first
    /// unattached device, then comes kvmvapic, then the others.
    static func x86BootPath(_ index: Int) -> String {
        "/machine/unattached/device[\(index == 0 ? 0 : index + 1)]"
    }

    static func x86Slots(_ t: CPUTopology, numa: Bool) -> [CPUSlot] {
        slots(SlotLayouts.layout(of: t, numa: numa, spapr: false) {
            (0..<t.maxCPUs).map { index in
                let p = t.x86Position(index)
                var props = JSONObject()
                if numa { props["node-id"] = 0 }
                props["socket-id"] = .int(Int64(p.socket))
                props["core-id"] = .int(Int64(p.core))
                props["thread-id"] = .int(Int64(p.thread))
                return SlotLayouts.Slot(props: props, vcpus: 1, apicID: t.apicID(p), firstCPUIndex: index,
                                        bootPath: index < t.cpus ? x86BootPath(index) : nil)
            }
        })
    }

    /// pseries: one slot per core, `core-id` counting threads.
    static func spaprSlots(_ t: CPUTopology, numa: Bool) -> [CPUSlot] {
        let bootCores = t.cpus / t.threads
        return slots(SlotLayouts.layout(of: t, numa: numa, spapr: true) {
            (0..<(t.maxCPUs / t.threads)).map { index in
                let coreID = index * t.threads
                var props = JSONObject()
                if numa { props["node-id"] = 0 }
                props["core-id"] = .int(Int64(coreID))
                return SlotLayouts.Slot(props: props, vcpus: t.threads, apicID: coreID, firstCPUIndex: coreID,
                                        bootPath: index < bootCores ? "/machine/unattached/device[\(index)]" : nil)
            }
        })
    }

    /// A VM's own slots, from its topology's layout: the boot CPUs in theirs.
    private static func slots(_ layout: [SlotLayouts.Slot]) -> [CPUSlot] {
        layout.enumerated().map { index, entry in
            let slot = CPUSlot(index: index, props: entry.props, vcpus: entry.vcpus, apicID: entry.apicID, firstCPUIndex: entry.firstCPUIndex)
            if let path = entry.bootPath {
                slot.occupant = .boot
                slot.qomPath = path
                slot.realizedOrder = index
            }
            return slot
        }
    }

    func queryHotpluggableCPUs() -> Result<JSONValue, QMPError> {
        guard hotplugSupported else { return .failure(.generic("The feature 'query-hotpluggable-cpus' is not enabled")) }
        return .success(.array(slots.reversed().map { $0.info(type: cpuType) }))
    }

    /// Fills an empty slot: `device_add` or `cpu-add`.
    func realize(_ slot: CPUSlot, as occupant: CPUSlot.Occupant, qomPath: String) {
        slot.occupant = occupant
        slot.qomPath = qomPath
        slot.realizedOrder = realizedCount
        realizedCount += 1
    }

    /// `query-cpus-fast`, which this plugin takes over from the core so that
    /// plugged vCPUs show and unplugged ones are gone: one entry per vCPU in
    /// the order QEMU realized them, with the slot's properties (`node-id`
    /// too when the board has NUMA). A pseries core's vCPUs are its threads.
    func queryCPUsFast() -> JSONValue {
        let machine = vm.machine
        let threads = machine.vcpuThreadIDs
        let target = machine.arch
        var cpus: [JSONValue] = []
        for slot in slots.filter({ $0.occupant != nil }).sorted(by: { $0.realizedOrder < $1.realizedOrder }) {
            for thread in 0..<slot.vcpus {
                let index = slot.firstCPUIndex + thread
                let path = slot.qomPath ?? ""
                cpus.append([
                    "cpu-index": .int(Int64(index)),
                    "qom-path": .string(family == .spapr ? "\(path)/thread[\(thread)]" : path),
                    "thread-id": .int(index < threads.count ? threads[index] : 0),
                    "props": .object(slot.props),
                    "target": .string(target),
                ])
            }
        }
        return .array(cpus)
    }

    /// Indexes of the vCPUs present, as `cpu` and `query-cpus-fast` count them.
    var presentCPUIndexes: [Int] {
        slots.filter { $0.occupant != nil }.flatMap { $0.firstCPUIndex..<($0.firstCPUIndex + $0.vcpus) }
    }
}
