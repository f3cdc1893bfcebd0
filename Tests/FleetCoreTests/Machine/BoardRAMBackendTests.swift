@testable import FleetCore
import QMPFleetTesting
import QMPWire
import Testing

/// The board's RAM backend object, as QEMU 7.2 `-machine pc -m 128M`
/// answers for it on this machine.
@Suite struct BoardRAMBackendTests {
    @Test func pcRAMIsAnObjectNoClientMade() throws {
        let fleet = try TestFleet(yaml: "vms: [{name: a, machine: pc, memory: {size: 128M}, plugins: {memory: {}}}]")
        let c = fleet.negotiatedClient(to: "a")
        #expect(c.result("qom-list", ["path": "/objects"]) == [["name": "type", "type": "string"],
                                                             ["name": "pc.ram", "type": "child<memory-backend-ram>"]])
        #expect(c.result("qom-get", ["path": "/objects/pc.ram", "property": "size"]) == .uint(134_217_728))
        #expect(c.result("qom-get", ["path": "/objects/pc.ram", "property": "type"]) == "memory-backend-ram")
        let names = c.result("qom-list", ["path": "/objects/pc.ram"])?.arrayValue?.compactMap { $0["name"]?.stringValue }
        #expect(names?.first == "type" && names?.last == "pc.ram[0]" && names?.contains("size") == true)
        #expect(c.errorPair("object-del", ["id": "pc.ram"]) == ("GenericError", "object 'pc.ram' is in use, can not be deleted"))
        #expect(c.errorPair("object-add", ["qom-type": "memory-backend-ram", "id": "pc.ram", "size": 1_048_576])
                == ("GenericError", "attempt to add duplicate property 'pc.ram' to object (type 'container')"))
    }

    @Test func virtHasItsOwnAndNoneHasNone() throws {
        let fleet = try TestFleet(yaml: "vms: [{name: a, machine: virt, arch: aarch64}, {name: b, machine: none}]")
        let a = fleet.negotiatedClient(to: "a")
        #expect(a.result("qom-list", ["path": "/objects"])?.arrayValue?.last?["name"] == "mach-virt.ram")
        let b = fleet.negotiatedClient(to: "b")
        #expect(b.result("qom-list", ["path": "/objects"]) == [["name": "type", "type": "string"]])
    }
}
