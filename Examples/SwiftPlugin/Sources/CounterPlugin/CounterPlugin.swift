import QMPPluginKit
import QMPWire

/// A counter per VM, written from docs/plugins.md alone ("In Swift").
///
/// Config: `plugins: {counter: {start: 10, limit: 100}}`. `x-count` adds to
/// the counter and answers its value; past `limit` it starts again at 0 and
/// sends COUNTER_WRAPPED to every client of the VM. `x-query-counter`
/// answers the value and how often it wrapped. The guest action `reset`
/// (from the fleet's control socket) sets it to `to`, or 0.
final class CounterPlugin: QMPPlugin {
    static let name = "counter"
    static var schema: [UInt8] { PackageResources.schema_json }

    let vm: PluginVM
    let limit: Int64
    var value: Int64
    var wraps: Int64 = 0

    init(vm: PluginVM, config: JSONValue) throws(PluginError) {
        self.vm = vm
        limit = config["limit"]?.int64Value ?? 100
        value = config["start"]?.int64Value ?? 0
        guard limit > 0, (0...limit).contains(value) else {
            throw PluginError("counter: start must be in 0...limit and limit above 0")
        }
    }

    static func register(_ plugin: PluginRegistry<CounterPlugin>) {
        // QAPI.XCountCommand, QAPI.XQueryCounterCommand,
        // QAPI.CounterWrappedEvent and QAPI.ResetGuestAction are generated
        // from schema.json into schema.generated.swift.
        plugin.command(QAPI.XCountCommand.self) { this, args in
            // The schema says uint32: the host has refused a negative or
            // larger `by` with QEMU's text before this runs.
            .success(.int(this.add(Int64(args.by ?? 1))))
        }
        plugin.command(QAPI.XQueryCounterCommand.self) { this, _ in
            // Return types are not generated: the reply is built as JSON, in
            // the order CounterInfo declares its members.
            .success(["value": .int(this.value), "wraps": .int(this.wraps)])
        }
        plugin.guestAction(QAPI.ResetGuestAction.self) { this, args in
            let to = args.to ?? 0
            guard (0...this.limit).contains(to) else {
                return .failure(QMPError(.genericError, "Parameter 'to' must be in 0...\(this.limit)"))
            }
            this.value = to
            return .success(.object([:]))
        }
    }

    /// Adds `by`; past the limit the counter starts again at 0.
    func add(_ by: Int64) -> Int64 {
        let (sum, overflow) = value.addingReportingOverflow(by)
        if overflow || sum > limit {
            value = 0
            wraps += 1
            vm.emit(QAPI.CounterWrappedEvent(wraps: wraps))
        } else {
            value = sum
        }
        return value
    }
}

@_cdecl("qmp_plugin_entry")
public func qmpPluginEntry() -> UnsafeRawPointer { PluginExport.descriptor(for: CounterPlugin.self) }
