import QAPIRuntime
import QMPWire

/// getfd, closefd, add-fd, remove-fd, query-fdsets: descriptors passed with
/// SCM_RIGHTS on the VM's socket, kept per VM (monitor/fds.c).
enum FDCommands {
    nonisolated(unsafe) static let bindings: [CommandBinding] = [
        .immediate(QAPI.GetfdCommand.self) { context, args in
            let name = args.fdname
            guard let fd = context.call.takeFileDescriptor() else {
                return .failure(.generic("No file descriptor supplied via SCM_RIGHTS"))
            }
            if let first = name.unicodeScalars.first, ("0"..."9").contains(first) {
                Glibc.close(fd)
                return .failure(.generic("Parameter 'fdname' expects a name not starting with a digit"))
            }
            if let refusal = FDCommands.refusal(context, fd: fd, replacingNamed: name) { return refusal }
            context.vm.fdSets.setNamed(name, fd: fd)
            return .ok
        },
        .immediate(QAPI.ClosefdCommand.self) { context, args in
            let name = args.fdname
            guard context.vm.fdSets.closeNamed(name) else {
                return .failure(.generic("File descriptor named '\(name)' not found"))
            }
            return .ok
        },
        .immediate(QAPI.AddFdCommand.self) { context, args in
            guard let fd = context.call.takeFileDescriptor() else {
                return .failure(.generic("No file descriptor supplied via SCM_RIGHTS"))
            }
            if let refusal = FDCommands.refusal(context, fd: fd) { return refusal }
            let setID = args.fdsetId
            let opaque = args.opaque
            let (id, number) = context.vm.fdSets.add(fd: fd, toSet: setID, opaque: opaque)
            return .success(["fdset-id": .int(id), "fd": .int(Int64(number))])
        },
        .immediate(QAPI.RemoveFdCommand.self) { context, args in
            let setID = args.fdsetId
            let fd = args.fd
            guard context.vm.fdSets.remove(setID: setID, fd: fd) else {
                let what = fd.map { "fdset-id:\(setID), fd:\($0)" } ?? "fdset-id:\(setID)"
                return .failure(.generic("File descriptor named '\(what)' not found"))
            }
            return .ok
        },
        .immediate(QAPI.QueryFdsetsCommand.self) { context, _ in
            .success(.array(context.vm.fdSets.sets.map { set in
                [
                    "fdset-id": .int(set.id),
                    "fds": .array(set.fds.map { entry in
                        var info: JSONObject = ["fd": .int(Int64(entry.fd))]
                        if let opaque = entry.opaque { info["opaque"] = .string(opaque) }
                        return .object(info)
                    }),
                ]
            }))
        },
    ]

    /// The answer when the VM holds `fds-per-vm` descriptors already (and
    /// `fd` is closed), else nil. QEMU 7.2 sets no bound and so has no text
    /// for it: the error names the limit.
    private static func refusal(_ context: CommandContext, fd: Int32, replacingNamed name: String? = nil) -> CommandResult? {
        let limit = context.vm.owner.limits.fdsPerVM
        guard !context.vm.fdSets.hasRoom(limit: limit, replacingNamed: name) else { return nil }
        Glibc.close(fd)
        return .failure(.generic("VM '\(context.vm.name)' holds \(limit) file descriptors already (limit fds-per-vm)"))
    }
}

#if canImport(Glibc)
import Glibc
#endif
