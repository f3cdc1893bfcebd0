import QAPIRuntime
import QMPWire

/// `query-mice` (QEMU's `ui.json`): the pointer devices the guest has.
///
/// Every x86 machine but `none` has the i8042's PS/2 mouse, which QEMU 7.2
/// lists as index 2 (after the PS/2 keyboard's handler), current, relative:
/// `[{"name": "QEMU PS/2 Mouse", "index": 2, "current": true, "absolute": false}]`.
/// Other machines (`none`, Arm `virt` with -nodefaults) list none. The
/// display plugin takes this command over to add its tablet.
enum MouseQuery {
    nonisolated(unsafe) static let bindings: [CommandBinding] = [
        .immediate(QAPI.QueryMiceCommand.self) { context, _ in .success(.array(ps2Mice(context.vm.spec.machine))) },
    ]

    /// The mouse handler index of the PS/2 mouse on pc and q35.
    static let ps2MouseIndex: Int64 = 2

    static func ps2Mice(_ machine: MachineSpec) -> [JSONValue] {
        guard machine.arch == "x86_64" || machine.arch == "i386", machine.type != "none" else { return [] }
        return [["name": "QEMU PS/2 Mouse", "index": .int(ps2MouseIndex), "current": true, "absolute": false]]
    }
}
