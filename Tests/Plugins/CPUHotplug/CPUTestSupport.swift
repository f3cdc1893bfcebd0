import QMPFleetTesting
import QMPWire

/// A one-VM fleet with the cpu-hotplug plugin and a negotiated client.
struct CPUVM {
    let fleet: TestFleet
    let client: TestClient

    /// `vm` is the rest of the VM entry (machine, smp, ...).
    init(_ vm: String = "machine: pc, smp: {cpus: 1, cores: 4, maxcpus: 4}", plugin: String = "{}") throws {
        fleet = try TestFleet(yaml: "vms: [{name: vm0, \(vm), plugins: {cpu-hotplug: \(plugin)}}]")
        client = fleet.connect(to: "vm0")
        client.negotiate()
    }

    func ok(_ command: String, _ args: JSONObject? = nil) -> JSONValue? {
        client.call(command, args)?["return"]
    }

    func error(_ command: String, _ args: JSONObject? = nil) -> (String?, String?) {
        let e = client.call(command, args)?["error"]
        return (e?["class"]?.stringValue, e?["desc"]?.stringValue)
    }

    func cpus() -> [JSONValue] { ok("query-hotpluggable-cpus")?.arrayValue ?? [] }

    func eventNames() -> [String] { client.takeEvents().compactMap { $0["event"]?.stringValue } }
}
