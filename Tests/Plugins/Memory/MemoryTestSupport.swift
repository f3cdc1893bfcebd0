import QMPFleetTesting
import QMPWire

/// A one-VM fleet with the memory plugin, a negotiated client and a control client.
struct MemoryVM {
    let fleet: TestFleet
    let client: TestClient
    let control: TestClient

    /// `vm` is the rest of the VM entry (machine, memory, ...).
    init(_ vm: String = "machine: pc, memory: {size: 1G, slots: 4, maxmem: 4G}", memory: String = "{}") throws {
        fleet = try TestFleet(yaml: "vms: [{name: vm0, \(vm), plugins: {memory: \(memory)}}]")
        client = fleet.connect(to: "vm0")
        client.negotiate()
        control = fleet.connectControl()
        control.negotiate()
    }

    func ok(_ command: String, _ args: JSONObject? = nil) -> JSONValue? {
        client.call(command, args)?["return"]
    }

    func error(_ command: String, _ args: JSONObject? = nil) -> (String?, String?) {
        let e = client.call(command, args)?["error"]
        return (e?["class"]?.stringValue, e?["desc"]?.stringValue)
    }

    func guest(_ action: String, _ args: JSONObject) -> JSONValue? {
        control.call("guest-action", ["vm": "vm0", "plugin": "memory", "action": .string(action), "arguments": .object(args)])
    }

    /// Adds a RAM backend and a DIMM on it.
    func plug(_ dimm: String, memdev: String, size: Int64 = 1 << 30, _ extra: JSONObject = [:]) {
        _ = ok("object-add", ["qom-type": "memory-backend-ram", "id": .string(memdev), "size": .int(size)])
        var args: JSONObject = ["driver": "pc-dimm", "id": .string(dimm), "memdev": .string(memdev)]
        for (k, v) in extra { args[k] = v }
        _ = ok("device_add", args)
    }

    /// Every event received so far, removing them.
    func events() -> [JSONValue] { client.takeEvents() }

    func eventNames() -> [String] { events().compactMap { $0["event"]?.stringValue } }
}

extension JSONValue {
    /// `data.info` of an ACPI_DEVICE_OST event.
    var ostInfo: JSONValue? { self["data"]?["info"] }
}
