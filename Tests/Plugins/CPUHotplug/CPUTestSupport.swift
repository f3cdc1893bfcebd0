import QMPFleetTesting
import QMPWire

/// A one-VM fleet with the cpu-hotplug plugin and a negotiated client.
struct CPUVM {
    let fleet: TestFleet
    let client: TestClient

    /// `vm` is the rest of the VM entry (machine, smp, ...).
    init(_ vm: String = "machine: pc, smp: {cpus: 1, cores: 4, maxcpus: 4}", plugin: String = "{}") throws {
        fleet = try TestFleet(yaml: "vms: [{name: vm0, \(vm), plugins: {cpu-hotplug: \(plugin)}}]")
        client = fleet.negotiatedClient(to: "vm0")
    }

    func ok(_ command: String, _ args: JSONObject? = nil) -> JSONValue? { client.result(command, args) }

    func error(_ command: String, _ args: JSONObject? = nil) -> (String?, String?) { client.errorPair(command, args) }

    func cpus() -> [JSONValue] { ok("query-hotpluggable-cpus")?.arrayValue ?? [] }

    func eventNames() -> [String] { client.takeEvents().compactMap { $0["event"]?.stringValue } }
}
