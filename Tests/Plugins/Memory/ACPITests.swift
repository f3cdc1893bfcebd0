import QMPWire
import Testing

/// The simulated guest's ACPI: _OST reports, unplug, refusals, and
/// rtc-reset-reinjection.
@Suite struct ACPITests {
    @Test func runningGuestAcknowledgesPlugAndEjectsOnUnplug() throws {
        let vm = try MemoryVM()
        vm.plug("d1", memdev: "m1")
        #expect(vm.events().isEmpty)
        vm.fleet.advance(by: 100)
        let plugged = vm.events()
        #expect(plugged.map { $0["event"] } == ["ACPI_DEVICE_OST"])
        #expect(plugged.first?.ostInfo == ["device": "d1", "slot": "0", "slot-type": "DIMM", "source": 1, "status": 0])

        #expect(vm.ok("device_del", ["id": "d1"]) == .object([:]))
        #expect(vm.ok("device_del", ["id": "d1"]) == .object([:]))
        #expect(vm.events().isEmpty)
        #expect(vm.ok("query-memory-devices")?.arrayValue?.count == 1)
        vm.fleet.advance(by: 100)
        let unplugged = vm.events()
        #expect(unplugged.map { $0["event"] } == ["ACPI_DEVICE_OST", "DEVICE_DELETED"])
        #expect(unplugged.first?.ostInfo == ["device": "d1", "slot": "0", "slot-type": "DIMM", "source": 259, "status": 132])
        #expect(unplugged.last?["data"] == ["device": "d1", "path": "/machine/peripheral/d1"])
        #expect(vm.ok("query-memory-devices") == [])
        #expect(vm.ok("query-acpi-ospm-status")?.arrayValue?.first == ["slot": "0", "slot-type": "DIMM", "source": 259, "status": 132])
        // The backend is free again.
        #expect(vm.ok("object-del", ["id": "m1"]) == .object([:]))
        #expect(vm.error("device_del", ["id": "d1"]) == ("DeviceNotFound", "Device 'd1' not found"))
    }

    @Test func refusingGuestKeepsTheDIMM() throws {
        let vm = try MemoryVM()
        vm.plug("d1", memdev: "m1")
        vm.fleet.advance(by: 100)
        _ = vm.events()
        #expect(vm.guest("unplug-response", ["response": "refuse"])?["return"] == .object([:]))
        #expect(vm.ok("device_del", ["id": "d1"]) == .object([:]))
        vm.fleet.advance(by: 100)
        let events = vm.events()
        #expect(events.map { $0["event"] } == ["ACPI_DEVICE_OST"])
        #expect(events.first?.ostInfo == ["device": "d1", "slot": "0", "slot-type": "DIMM", "source": 3, "status": 130])
        #expect(vm.ok("query-memory-devices")?.arrayValue?.count == 1)
        #expect(vm.error("object-del", ["id": "m1"]) == ("GenericError", "object 'm1' is in use, can not be deleted"))

        #expect(vm.guest("unplug-response", ["response": "eject-error"])?["return"] == .object([:]))
        #expect(vm.ok("device_del", ["id": "d1"]) == .object([:]))
        vm.fleet.advance(by: 100)
        let failed = vm.events()
        #expect(failed.map { $0["event"] } == ["ACPI_DEVICE_OST", "MEM_UNPLUG_ERROR", "DEVICE_UNPLUG_GUEST_ERROR"])
        #expect(failed[1]["data"] == ["device": "d1", "msg": "Memory hotunplug rejected by the guest for device d1"])
        #expect(failed[2]["data"] == ["device": "d1", "path": "/machine/peripheral/d1"])
        #expect(vm.ok("query-memory-devices")?.arrayValue?.count == 1)

        #expect(vm.guest("unplug-response", ["response": "accept"])?["return"] == .object([:]))
        #expect(vm.guest("unplug-response", ["response": "maybe"])?["error"]?["desc"] == "Parameter 'response' does not accept value 'maybe'")
        #expect(vm.ok("device_del", ["id": "d1"]) == .object([:]))
        vm.fleet.advance(by: 100)
        #expect(vm.eventNames() == ["ACPI_DEVICE_OST", "DEVICE_DELETED"])
    }

    @Test func pausedGuestAnswersAfterCont() throws {
        let vm = try MemoryVM("machine: pc, memory: {size: 1G, slots: 4, maxmem: 4G}, start-paused: true")
        vm.plug("d1", memdev: "m1")
        #expect(vm.ok("device_del", ["id": "d1"]) == .object([:]))
        vm.fleet.advance(by: 1000)
        // Like QEMU without a running guest OS: nothing happens.
        #expect(vm.events().isEmpty)
        #expect(vm.ok("query-memory-devices")?.arrayValue?.count == 1)
        #expect(vm.ok("cont") == .object([:]))
        _ = vm.events()
        vm.fleet.advance(by: 100)
        #expect(vm.eventNames() == ["ACPI_DEVICE_OST", "DEVICE_DELETED"])
    }

    @Test func ospmStatusListsEverySlot() throws {
        let vm = try MemoryVM()
        #expect(vm.ok("query-acpi-ospm-status") == [
            ["slot": "0", "slot-type": "DIMM", "source": 0, "status": 0], ["slot": "1", "slot-type": "DIMM", "source": 0, "status": 0],
            ["slot": "2", "slot-type": "DIMM", "source": 0, "status": 0], ["slot": "3", "slot-type": "DIMM", "source": 0, "status": 0],
        ])
    }

    @Test func rtcResetReinjectionIsX86Only() throws {
        #expect(try MemoryVM().ok("rtc-reset-reinjection") == .object([:]))
        let arm = try MemoryVM("machine: virt, arch: aarch64, memory: {size: 1G, slots: 2, maxmem: 4G}")
        #expect(arm.error("rtc-reset-reinjection") == ("CommandNotFound", "The command rtc-reset-reinjection has not been found"))
        let none = try MemoryVM("machine: none")
        #expect(none.error("query-acpi-ospm-status") == ("GenericError", "command is not supported, missing ACPI device"))
    }
}
