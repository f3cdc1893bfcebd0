import QAPIRuntime
import QMPWire

/// The virtio debug queries (`virtio.json`, all `unstable`):
/// `x-query-virtio` lists the VM's virtio devices (those `device_add` made,
/// by driver name, at QEMU's `virtio-backend` child for the PCI proxies),
/// newest first as QEMU's list keeps them.
///
/// The per-device queries answer for a PCI proxy's backend what QEMU 7.2
/// answers for a fresh device of that driver with no guest driver
/// (recorded, `PCIReferenceData`): no status bits or guest features, the
/// host features of the driver's defaults, every queue empty and not set
/// up, vhost not started. What follows the VM's state is filled in:
/// `vm-running` (QEMU's run-state handler) and the `bus-name` a device's id
/// gives its child bus (virtio-serial's `ID.0`). Any other path answers as
/// QEMU does for a path that is no VirtIODevice.
enum VirtioQueries {
    nonisolated(unsafe) static let bindings: [CommandBinding] = [
        .immediate(QAPI.XQueryVirtioCommand.self) { context, _ in
            .success(.array(context.vm.devices.devices.reversed().compactMap { device -> JSONValue? in
                guard device.driver.hasPrefix("virtio-") else { return nil }
                // virtio-balloon-pci-transitional's backend is a virtio-balloon too.
                let proxy = device.driver.range(of: "-pci")
                let isProxy = proxy != nil
                let name = proxy.map { String(device.driver[..<$0.lowerBound]) } ?? device.driver.replacingOccurrences(of: "-device", with: "")
                return ["path": .string(isProxy ? device.qomPath + "/virtio-backend" : device.qomPath), "name": .string(name)]
            }))
        },
        .immediate(QAPI.XQueryVirtioStatusCommand.self) { context, args in
            guard let (device, record) = virtioDevice(context, args.path), var status = record["status"]?.objectValue else {
                return notVirtIODevice(args.path)
            }
            status["vm-running"] = .bool(context.vm.runState.isRunning)
            if let recorded = status["bus-name"]?.stringValue, recorded.hasPrefix(recordedID + ".") {
                status["bus-name"] = .string(device.id.map { $0 + recorded.dropFirst(recordedID.count) } ?? "")
            }
            return .success(.object(status))
        },
        .immediate(QAPI.XQueryVirtioQueueStatusCommand.self) { context, args in
            guard let (_, record) = virtioDevice(context, args.path) else { return notVirtIODevice(args.path) }
            let queues = record["queues"]?.arrayValue ?? []
            let queue = args.queue
            guard queue >= 0, queue < queues.count else { return invalidQueue(queue) }
            return .success(queues[Int(queue)])
        },
        .immediate(QAPI.XQueryVirtioVhostQueueStatusCommand.self) { context, args in
            guard let (_, record) = virtioDevice(context, args.path) else { return notVirtIODevice(args.path) }
            return recordedReply(record["vhost-queue-status"])
        },
        .immediate(QAPI.XQueryVirtioQueueElementCommand.self) { context, args in
            guard let (_, record) = virtioDevice(context, args.path) else {
                return .failure(.generic("Path \(args.path) is not a VirtIO device"))
            }
            let queue = args.queue
            guard queue >= 0, queue < record["queues"]?.arrayValue?.count ?? 0 else { return invalidQueue(queue) }
            return recordedReply(record["queue-element"])
        },
    ]

    /// The id the devices were recorded with.
    private static let recordedID = "d0"

    /// The device whose virtio backend `path` is, with its recorded answers.
    private static func virtioDevice(_ context: CommandContext, _ path: String) -> (Device, JSONObject)? {
        guard path.hasSuffix("/virtio-backend"),
              let device = context.vm.devices.devices.first(where: { $0.qomPath + "/virtio-backend" == path }),
              let record = PCIReferenceData.shared?.board(of: context.vm.spec.machine.type)?.virtio[device.driver]
        else { return nil }
        return (device, record)
    }

    private static func recordedReply(_ reply: JSONValue?) -> CommandResult {
        if let value = reply?["return"] { return .success(value) }
        return .failure(.generic(reply?["error"]?["desc"]?.stringValue ?? ""))
    }

    private static func invalidQueue(_ queue: Int64) -> CommandResult {
        .failure(.generic("Invalid virtqueue number \(queue)"))
    }

    private static func notVirtIODevice(_ path: String) -> CommandResult {
        .failure(.generic("Path \(path) is not a VirtIODevice"))
    }
}
