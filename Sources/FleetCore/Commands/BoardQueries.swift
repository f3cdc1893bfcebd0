import QAPIRuntime
import QEMUReference
import QMPWire

/// The board's own debug and PCI queries (QEMU's `machine.json`,
/// `pci.json`): `query-pci`, `x-query-roms`, `x-query-ramblock`,
/// `x-query-irq`, `x-query-jit`, `x-query-opcount`, `x-query-rdma`,
/// `x-query-numa`, `x-query-profile`, `x-query-usb`, and the commands that
/// need a board feature the simulated boards lack (`dumpdtb` on x86,
/// `x-exit-preconfig` after start-up, `query-vm-generation-id`).
///
/// The built-in part comes from QEMU 7.2's recorded answers for the board
/// (`BoardReferenceData`); RAM blocks are moved to the VM's RAM size.
/// query-pci lists the board's own functions and the PCI devices on the
/// VM's bus (`PCIBus`, `PCIDeviceInfo`).
enum BoardQueries {
    nonisolated(unsafe) static let bindings: [CommandBinding] = [
        .immediate(QAPI.QueryPciCommand.self) { context, _ in
            guard case .success(let board)? = recorded("query-pci", context) else { return .success(.array([])) }
            guard let bus = context.vm.pciBus,
                  let reference = PCIReferenceData.shared?.board(of: context.vm.spec.machine.type) else { return .success(board) }
            return .success(PCIDeviceInfo.reply(boardReply: board, bus: bus, reference: reference))
        },
        .immediate(QAPI.XQueryRomsCommand.self) { context, _ in recorded("x-query-roms", context) ?? text("") },
        .immediate(QAPI.XQueryIrqCommand.self) { context, _ in recorded("x-query-irq", context) ?? text("") },
        .immediate(QAPI.XQueryJitCommand.self) { context, _ in recorded("x-query-jit", context) ?? text("") },
        .immediate(QAPI.XQueryOpcountCommand.self) { _, _ in text("[TCG profiler not compiled]\n") },
        .immediate(QAPI.XQueryRdmaCommand.self) { _, _ in text("") },
        .immediate(QAPI.XQueryNumaCommand.self) { _, _ in text("0 nodes\n") },
        .immediate(QAPI.XQueryProfileCommand.self) { _, _ in .failure(.generic("Internal profiler not compiled")) },
        .immediate(QAPI.XQueryUsbCommand.self) { _, _ in .failure(.generic("USB support not enabled")) },
        .immediate(QAPI.XQueryRamblockCommand.self) { context, _ in
            guard case .success(let reply)? = recorded("x-query-ramblock", context),
                  let table = reply["human-readable-text"]?.stringValue else { return text("") }
            return text(RAMBlockTable.resized(table, ramBytes: context.vm.spec.machine.ramBytes))
        },
        .immediate(QAPI.XExitPreconfigCommand.self) { _, _ in
            .failure(.generic("The command is permitted only before machine initialization"))
        },
        .immediate(QAPI.QueryVmGenerationIdCommand.self) { context, _ in
            // Only x86 builds have the vmgenid device; the others' stub refuses.
            guard context.vm.spec.machine.arch == "x86_64" else {
                return .failure(.generic("this feature or command is not currently supported"))
            }
            return .failure(.generic("VM Generation ID device not found"))
        },
        .deferred(QAPI.DumpdtbCommand.self) { context, args, complete in
            // x86 boards have no flattened device tree.
            guard context.vm.spec.machine.arch == "aarch64" || context.vm.spec.machine.arch == "arm" else {
                return complete(.failure(.generic("This machine doesn't have a FDT")))
            }
            FlattenedDeviceTree.dump(to: args.filename, vm: context.vm, complete)
        },
    ]

    static func text(_ text: String) -> CommandResult { .success(["human-readable-text": .string(text)]) }

    private static func recorded(_ query: String, _ context: CommandContext) -> CommandResult? {
        guard let reply = BoardReferenceData.shared?.reply(query, machineType: context.vm.spec.machine.type) else { return nil }
        if let value = reply["return"] { return .success(value) }
        let error = reply["error"]
        return .failure(QMPError(.genericError, error?["desc"]?.stringValue ?? ""))
    }
}

/// `x-query-ramblock`'s table for a RAM size: the first block is the
/// board's RAM, the blocks after it sit right above it (their offsets move
/// with it), as ram_block_add places them.
enum RAMBlockTable {
    static func resized(_ table: String, ramBytes: UInt64) -> String {
        let recorded = BoardReferenceData.recordedRAMBytes
        var lines = table.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.count > 1 else { return table }
        for i in 1..<lines.count {
            var fields = lines[i].split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard fields.count == 6, let offset = UInt64(fields[3].dropFirst(2), radix: 16) else { continue }
            if i == 1 {
                fields[4] = hex(ramBytes)
                fields[5] = hex(ramBytes)
            } else if offset >= recorded {
                let (moved, overflow) = (offset - recorded).addingReportingOverflow(ramBytes)
                if !overflow { fields[3] = hex(moved) }
            }
            lines[i] = String(repeating: " ", count: max(0, 24 - fields[0].count)) + fields[0]
                + "    " + fields[1] + " " + fields[2] + "  " + fields[3] + " " + fields[4] + " " + fields[5]
        }
        return lines.joined(separator: "\n")
    }

    static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 16 - digits.count)) + digits
    }
}
