import Foundation
import FleetCore
import QMPFleetTesting
import QMPWire
import Testing

/// pmemsave/memsave write the (untouched, zero) guest memory; the machine
/// queries answer as QEMU 7.2's boards do.
struct GuestMemoryCommandTests {
    @Test func pmemsaveWritesSizeZeroBytes() throws {
        let fleet = try TestFleet(yaml: "vms: [{name: vm0, machine: pc}]")
        let client = fleet.negotiatedClient(to: "vm0")
        let path = "/tmp/qmpfleet-pmemsave-\(getpid()).bin"
        defer { unlink(path) }
        #expect(client.call("pmemsave", ["val": 4096, "size": 65536, "filename": .string(path)])?["return"] == .object([:]))
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(data.count == 65536)
        #expect(data.allSatisfy { $0 == 0 })
        #expect(client.call("pmemsave", ["val": 0, "size": -1, "filename": .string(path)])?["error"] != nil)
        #expect(client.call("pmemsave", ["val": 0, "size": 1, "filename": "/etc/qmpfleet.bin"])?["error"]?["desc"]
                == "Could not open '/etc/qmpfleet.bin': Permission denied")
        #expect(client.call("memsave", ["val": 0, "size": 1, "filename": .string(path), "cpu-index": 3])?["error"]?["desc"]
                == "Parameter 'cpu-index' expects a CPU number")
    }

    @Test func boardsDifferAsQEMUsDo() throws {
        let fleet = try TestFleet(yaml: "vms: [{name: pc, machine: pc, memory: {size: 512M}}, {name: none, machine: none}]")
        let pc = fleet.negotiatedClient(to: "pc")
        let none = fleet.negotiatedClient(to: "none")
        #expect(pc.call("query-current-machine")?["return"] == ["wakeup-suspend-support": true])
        #expect(none.call("query-current-machine")?["return"] == ["wakeup-suspend-support": false])
        #expect(pc.call("inject-nmi")?["return"] == .object([:]))
        #expect(none.call("inject-nmi")?["error"]?["desc"] == "this feature or command is not currently supported")
        #expect(pc.call("query-memory-size-summary")?["return"] == ["base-memory": 536_870_912, "plugged-memory": 0])
        #expect(none.call("query-memory-size-summary")?["return"] == ["base-memory": 0, "plugged-memory": 0])
        // No vCPU on a `none` board, so no CPU to read memory through.
        #expect(none.call("memsave", ["val": 0, "size": 1, "filename": "/tmp/x.bin"])?["error"]?["desc"] == "Parameter 'cpu-index' expects a CPU number")
    }
}
