import QMPPluginKit
import QMPWire

/// QEMU's trace event control (`trace.json`): trace-event-get-state and
/// trace-event-set-state over the 4,246 events of QEMU 7.2, with names,
/// `*` patterns, the `vcpu` argument and QEMU's error texts. Each VM has its
/// own states; nothing is traced anywhere, but the states are remembered.
///
/// Config keys (`plugins: {trace: ...}`):
/// - `enable`: list of event names or patterns enabled at start-up, as
///   QEMU's `-trace enable=PATTERN` (unknown names are a config error).
final class TracePlugin: QMPPlugin {
    static let name = "trace"
    static var schema: [UInt8] { PackageResources.schema_json }

    let vm: PluginVM
    var states = TraceEventStates()

    init(vm: PluginVM, config: JSONValue) throws(PluginError) {
        self.vm = vm
        try PluginConfig.checkKeys(config.objectValue ?? [:], plugin: "trace", keys: .expected(["enable"]))
        for item in config["enable"]?.arrayValue ?? [] {
            guard let name = item.stringValue else { throw PluginError("trace: 'enable' must be a list of names") }
            do throws(QMPError) {
                try setState(name: name, enable: true, ignoreUnavailable: true, vcpu: nil)
            } catch {
                throw PluginError("trace: \(error.desc)")
            }
        }
    }

    /// The VM's vCPUs: the `vcpu` argument must name one of them.
    var vcpuCount: Int { vm.machine.smp.cpus }

    static func register(_ plugin: PluginRegistry<TracePlugin>) {
        plugin.command(QAPI.TraceEventGetStateCommand.self, throwing: { this, args throws(QMPError) in
            try this.getState(name: args.name, vcpu: args.vcpu)
        })
        plugin.command(QAPI.TraceEventSetStateCommand.self, throwing: { this, args throws(QMPError) in
            try this.setState(name: args.name, enable: args.enable, ignoreUnavailable: args.ignoreUnavailable ?? false, vcpu: args.vcpu)
            return .object([:])
        })
    }

    /// trace/qmp.c `qmp_trace_event_get_state`.
    func getState(name: String, vcpu: Int64?) throws(QMPError) -> JSONValue {
        let pattern = TraceEventPattern(name)
        let cpu = try checkVCPU(vcpu)
        if let error = check(pattern, name: name, hasVCPU: cpu != nil, ignoreUnavailable: true) { throw error }
        var list: [JSONValue] = []
        for index in matching(pattern, name: name) {
            let event = TraceEventCatalogue.events[index]
            if cpu != nil && !event.isPerVCPU { continue }
            let state: String
            if !event.isAvailable {
                state = "unavailable"
            } else if let cpu {
                state = states.isEnabled(index, vcpu: cpu) ? "enabled" : "disabled"
            } else {
                state = states.isEnabled(index) ? "enabled" : "disabled"
            }
            list.append(.object(["name": .string(event.name), "state": .string(state), "vcpu": .bool(event.isPerVCPU)]))
        }
        return .array(list)
    }

    /// trace/qmp.c `qmp_trace_event_set_state`: every check passes before
    /// any state changes.
    func setState(name: String, enable: Bool, ignoreUnavailable: Bool, vcpu: Int64?) throws(QMPError) {
        let pattern = TraceEventPattern(name)
        let cpu = try checkVCPU(vcpu)
        if let error = check(pattern, name: name, hasVCPU: cpu != nil, ignoreUnavailable: ignoreUnavailable) { throw error }
        for index in matching(pattern, name: name) {
            let event = TraceEventCatalogue.events[index]
            guard event.isAvailable, cpu == nil || event.isPerVCPU else { continue }
            if let cpu {
                states.set(index, enabled: enable, vcpu: cpu)
            } else {
                states.set(index, enabled: enable, vcpuCount: vcpuCount)
            }
        }
    }

    /// `get_cpu`: QEMU prints the index with `%u`, so -1 reads 4294967295.
    private func checkVCPU(_ vcpu: Int64?) throws(QMPError) -> Int? {
        guard let vcpu else { return nil }
        guard vcpu >= 0, vcpu < Int64(vcpuCount) else {
            throw .generic("invalid vCPU index \(UInt32(truncatingIfNeeded: vcpu))")
        }
        return Int(vcpu)
    }

    /// `check_events`.
    private func check(_ pattern: TraceEventPattern, name: String, hasVCPU: Bool, ignoreUnavailable: Bool) -> QMPError? {
        if !pattern.isPattern {
            guard let index = TraceEventCatalogue.indexByName[name] else { return .generic("unknown event \"\(name)\"") }
            let event = TraceEventCatalogue.events[index]
            if hasVCPU && !event.isPerVCPU { return .generic("event \"\(name)\" is not vCPU-specific") }
            if !ignoreUnavailable && !event.isAvailable { return .generic("event \"\(name)\" is disabled") }
            return nil
        }
        guard !ignoreUnavailable else { return nil }
        // QEMU walks its event list in the order opposite to its listing
        // (get-state prepends each entry), so the first refusal it meets
        // is the last one listed.
        for index in matching(pattern, name: name).reversed() where !TraceEventCatalogue.events[index].isAvailable {
            return .generic("event \"\(TraceEventCatalogue.events[index].name)\" is disabled")
        }
        return nil
    }

    /// Indexes of the events `pattern` selects, in QEMU's listing order.
    private func matching(_ pattern: TraceEventPattern, name: String) -> [Int] {
        if !pattern.isPattern { return TraceEventCatalogue.indexByName[name].map { [$0] } ?? [] }
        return TraceEventCatalogue.events.indices.filter { pattern.matches(TraceEventCatalogue.events[$0].name) }
    }
}

@_cdecl("qmp_plugin_entry")
public func qmpPluginEntry() -> UnsafeRawPointer { PluginExport.descriptor(for: TracePlugin.self) }
