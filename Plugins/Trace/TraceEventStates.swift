/// One VM's dynamic trace states: which events are enabled, and for per-vCPU
/// events on which vCPUs (QEMU keeps a count of enabled vCPUs per event; an
/// event is enabled when that count is not zero).
struct TraceEventStates {
    private var enabled: Set<Int> = []
    private var enabledOnVCPU: [Int: Set<Int>] = [:]

    func isEnabled(_ index: Int) -> Bool {
        enabled.contains(index) || !(enabledOnVCPU[index]?.isEmpty ?? true)
    }

    func isEnabled(_ index: Int, vcpu: Int) -> Bool {
        enabledOnVCPU[index]?.contains(vcpu) ?? false
    }

    /// `trace_event_set_state_dynamic`: for a per-vCPU event, every vCPU.
    mutating func set(_ index: Int, enabled on: Bool, vcpuCount: Int) {
        if TraceEventCatalogue.events[index].isPerVCPU {
            enabledOnVCPU[index] = on ? Set(0..<vcpuCount) : []
        } else if on {
            enabled.insert(index)
        } else {
            enabled.remove(index)
        }
    }

    /// `trace_event_set_vcpu_state_dynamic`.
    mutating func set(_ index: Int, enabled on: Bool, vcpu: Int) {
        if on {
            enabledOnVCPU[index, default: []].insert(vcpu)
        } else {
            enabledOnVCPU[index]?.remove(vcpu)
        }
    }
}
