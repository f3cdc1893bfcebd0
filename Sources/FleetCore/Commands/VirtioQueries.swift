import QMPWire

/// The virtio debug queries (`virtio.json`, all `unstable`):
/// `x-query-virtio` lists the VM's virtio devices (those `device_add` or
/// the config made, by driver name, at QEMU's `virtio-backend` child for
/// the PCI proxies). The per-device status and queue queries need the
/// device's virtqueues, which the simulation does not model: they answer
/// as QEMU does for a path that is no VirtIODevice.
enum VirtioQueries {
    nonisolated(unsafe) static let handlers: [String: CommandHandler] = [
        "x-query-virtio": .immediate { context in
            .success(.array(context.vm.devices.devices.compactMap { device -> JSONValue? in
                guard device.driver.hasPrefix("virtio-") else { return nil }
                let isProxy = device.driver.hasSuffix("-pci")
                let name = isProxy ? String(device.driver.dropLast(4)) : device.driver.replacingOccurrences(of: "-device", with: "")
                return ["path": .string(isProxy ? device.qomPath + "/virtio-backend" : device.qomPath), "name": .string(name)]
            }))
        },
        "x-query-virtio-status": .immediate { context in notVirtIODevice(context) },
        "x-query-virtio-queue-status": .immediate { context in notVirtIODevice(context) },
        "x-query-virtio-vhost-queue-status": .immediate { context in notVirtIODevice(context) },
        "x-query-virtio-queue-element": .immediate { context in
            .failure(.generic("Path \(context.arguments["path"]?.stringValue ?? "") is not a VirtIO device"))
        },
    ]

    private static func notVirtIODevice(_ context: CommandContext) -> CommandResult {
        .failure(.generic("Path \(context.arguments["path"]?.stringValue ?? "") is not a VirtIODevice"))
    }
}
