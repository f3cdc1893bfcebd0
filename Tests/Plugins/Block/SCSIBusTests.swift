import QMPFleetTesting
import QMPWire
import Testing

/// SCSI adapters and the disks on their buses (`SCSIBus.swift`); the
/// replies QEMU 7.2 gives are compared one for one in
/// Tests/protocol/test_device_buses.py, here what only the simulation
/// shows: where a disk went, and an adapter's unplug taking its disks.
@Suite struct SCSIBusTests {
    static let bare = "{drives: []}"

    @Test func aDiskWithoutABusIsRefusedAndTheNewestAdapterTakesOneWithout() throws {
        let vm = try BlockVM(Self.bare)
        #expect(vm.ok("blockdev-add", ["driver": "null-co", "node-name": "n0"]) == [:])
        #expect(vm.error("device_add", ["driver": "scsi-hd", "id": "d0", "drive": "n0"]).1 == "No 'SCSI' bus found for device 'scsi-hd'")
        #expect(vm.ok("device_add", ["driver": "virtio-scsi-pci", "id": "s0"]) == [:])
        #expect(vm.ok("device_add", ["driver": "lsi53c895a", "id": "lsi"]) == [:])
        // The LSI adapter is the newest: it has one LUN.
        #expect(vm.error("device_add", ["driver": "scsi-hd", "id": "d0", "drive": "n0", "lun": 1]).1 == "bad scsi device lun: 1")
        #expect(vm.ok("device_add", ["driver": "scsi-hd", "id": "d0", "drive": "n0", "bus": "s0.0", "lun": 1]) == [:])
        #expect(vm.ok("device_add", ["driver": "scsi-cd", "id": "c0", "bus": "s0.0", "scsi-id": 0]) == [:])
        // Target 0 has LUN 1 taken, so the CD got LUN 0; the next free LUN is 2.
        #expect(vm.error("device_add", ["driver": "scsi-cd", "id": "c1", "bus": "s0.0", "scsi-id": 0, "lun": 0]).1
                    == "lun already used by 'c0'")
        #expect(vm.ok("device_add", ["driver": "scsi-cd", "id": "c1", "bus": "s0.0", "scsi-id": 0]) == [:])
        #expect(vm.error("device_add", ["driver": "scsi-cd", "id": "c2", "bus": "s0.0", "scsi-id": 0, "lun": 2]).1
                    == "lun already used by 'c1'")
    }

    @Test func anAdapterGoesWithItsDisks() throws {
        let vm = try BlockVM(Self.bare)
        #expect(vm.ok("blockdev-add", ["driver": "null-co", "node-name": "n0"]) == [:])
        #expect(vm.ok("device_add", ["driver": "virtio-scsi-pci", "id": "s0"]) == [:])
        #expect(vm.ok("device_add", ["driver": "virtio-scsi-pci", "id": "s1"]) == [:])
        #expect(vm.ok("device_add", ["driver": "scsi-hd", "id": "d0", "drive": "n0", "bus": "s0.0"]) == [:])
        #expect(vm.ok("device_add", ["driver": "scsi-cd", "bus": "s0.0"]) == [:])
        #expect(vm.ok("device_add", ["driver": "scsi-cd", "id": "c1", "bus": "s1.0"]) == [:])
        let qdevs = { vm.ok("query-block")?.arrayValue?.compactMap { $0["qdev"]?.stringValue } ?? [] }
        #expect(qdevs().count == 3)
        _ = vm.events()
        #expect(vm.ok("device_del", ["id": "s0"]) == [:])
        vm.advance(1000)
        let deleted = vm.events().filter { $0["event"] == "DEVICE_DELETED" }.map { $0["data"]?["device"]?.stringValue ?? $0["data"]?["path"]?.stringValue ?? "" }
        #expect(deleted.first == "d0")
        #expect(deleted.count == 4)  // d0, the anonymous CD, s0's virtio-backend, s0
        #expect(deleted.last == "s0")
        #expect(qdevs() == ["c1"])
        // The node stays; its bus is gone with the adapter.
        #expect(vm.error("device_add", ["driver": "scsi-hd", "id": "d0", "drive": "n0", "bus": "s0.0"]).1 == "Bus 's0.0' not found")
        #expect(vm.ok("device_add", ["driver": "scsi-hd", "id": "d0", "drive": "n0"]) == [:])
        let peripherals = vm.ok("qom-list", ["path": "/machine/peripheral"])?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        #expect(Set(peripherals).isSuperset(of: ["s1", "c1", "d0"]) && !peripherals.contains("s0"))
    }
}
