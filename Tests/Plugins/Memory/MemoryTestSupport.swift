import QMPFleetTesting
import QMPWire

/// A one-VM fleet with the memory plugin and a negotiated client.
struct MemoryVM {
    let fleet: TestFleet
    let client: TestClient

    /// `vm` is the rest of the VM entry (machine, memory, ...).
    init(_ vm: String = "machine: pc, memory: {size: 1G, slots: 4, maxmem: 4G}", memory: String = "{}") throws {
        fleet = try TestFleet(yaml: "vms: [{name: vm0, \(vm), plugins: {memory: \(memory)}}]")
        client = fleet.negotiatedClient(to: "vm0")
    }

    func ok(_ command: String, _ args: JSONObject? = nil) -> JSONValue? { client.result(command, args) }

    func error(_ command: String, _ args: JSONObject? = nil) -> (String?, String?) { client.errorPair(command, args) }

    func guest(_ action: String, _ args: JSONObject) -> JSONValue? {
        fleet.guestAction(vm: "vm0", plugin: "memory", action: action, arguments: args)
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
