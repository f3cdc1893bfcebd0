/// One trace event of QEMU's catalogue, as `trace-event-get-state` shows it.
struct TraceEvent: Sendable {
    let name: String
    /// A per-vCPU event (`vcpu` property in trace-events): the `vcpu`
    /// argument selects one CPU's state.
    let isPerVCPU: Bool
    /// False for events compiled out of the build (`disable` property):
    /// their state is "unavailable" and cannot be changed.
    let isAvailable: Bool
}
