import QMPFleetTesting
import QMPWire
import Testing

extension BlockSuite {
/// The VMs of one template share the drives their settings make
/// (`SharedDriveGraph`): each answers as if it had built them, and what a
/// client does to one VM's drives is that VM's alone.
@Suite struct SharedDriveGraphTests {
    @Test func aTemplatesVMsAnswerAloneThoughTheyShareTheirDrives() throws {
        let fleet = try TestFleet(yaml: "vms: [{name: \"v{n}\", count: 3, machine: pc, plugins: {block: \(BlockVM.drives)}}]")
        let clients = ["v0", "v1", "v2"].map { fleet.negotiatedClient(to: $0) }
        let before = clients.map { $0.result("query-named-block-nodes") }
        #expect((before[0]?.arrayValue?.count ?? 0) > 0)
        #expect(before[1] == before[0] && before[2] == before[0])

        #expect(clients[1].result("block_resize", ["device": "drive1", "size": .int(128 << 20)]) == [:])
        #expect(clients[1].result("eject", ["id": "cdrom0"]) == [:])
        let size = { (client: TestClient) in
            client.result("query-block")?.arrayValue?.first { $0["device"] == "drive1" }?["inserted"]?["image"]?["virtual-size"]
        }
        #expect(size(clients[1]) == .int(128 << 20))
        #expect(size(clients[0]) == .int(64 << 20) && size(clients[2]) == .int(64 << 20))
        let cd = { (client: TestClient) in client.result("query-block")?.arrayValue?.first { $0["device"] == "cd0" }?["inserted"] }
        #expect(cd(clients[1]) == nil)
        #expect(cd(clients[0]) != nil && cd(clients[2]) != nil)
        #expect(clients[0].result("query-named-block-nodes") == before[0])
    }
}
}
