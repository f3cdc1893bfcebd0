@testable import FleetCore
import QMPWire
import Testing

/// The bus's placement rules on pc's board (i440FX at 0.0, PIIX3 1.0,
/// piix3-ide 1.1, PIIX4_PM 1.3); each error text is QEMU 7.2's.
@Suite struct PCIBusTests {
    static func pcBus(_ registry: DeviceRegistry) throws -> PCIBus {
        let board = try #require(PCIReferenceData.shared?.boards["pc"])
        return PCIBus(name: "pci.0", isHotpluggable: true, boardFunctionTypes: board.functionTypes, devices: registry)
    }

    static func error(_ result: Result<PCIAddress, QMPError>) -> String? {
        if case .failure(let error) = result { return error.desc }
        return nil
    }

    @Test func boardFunctionsAreRecorded() throws {
        let board = try #require(PCIReferenceData.shared?.boards["q35"])
        #expect(board.functionTypes[PCIAddress(slot: 31, function: 2)!.devfn] == "ich9-ahci")
        #expect(board.entries["e1000"]?["id"]?["device"] == 4110)
    }

    @Test func firstFreeSlotAndTakenSlots() throws {
        let bus = try Self.pcBus(DeviceRegistry())
        let first = bus.claim(driver: "e1000", id: "n0", requested: nil, multifunction: false)
        #expect(try first.get() == PCIAddress(slot: 2, function: 0))
        // A claim in progress holds its place.
        #expect(Self.error(bus.claim(driver: "rtl8139", id: nil, requested: PCIAddress(slot: 2, function: 0), multifunction: false))
                == "PCI: slot 2 function 0 not available for rtl8139, in use by e1000,id=n0")
        #expect(try bus.claim(driver: "e1000", id: "n1", requested: nil, multifunction: false).get() == PCIAddress(slot: 3, function: 0))
        bus.endClaim(PCIAddress(devfn: 2 << 3))
        #expect(try bus.claim(driver: "e1000", id: "n2", requested: nil, multifunction: false).get() == PCIAddress(slot: 2, function: 0))
        #expect(Self.error(bus.claim(driver: "e1000", id: "x", requested: PCIAddress(slot: 1, function: 0), multifunction: false))
                == "PCI: slot 1 function 0 not available for e1000, in use by PIIX3,id=(null)")
        #expect(Self.error(bus.claim(driver: "e1000", id: "x", requested: PCIAddress(slot: 1, function: 3), multifunction: false))
                == "PCI: slot 1 function 3 not available for e1000, in use by PIIX4_PM,id=(null)")
    }

    @Test func multifunctionRules() throws {
        let bus = try Self.pcBus(DeviceRegistry())
        #expect(Self.error(bus.claim(driver: "e1000", id: "c", requested: PCIAddress(slot: 1, function: 2), multifunction: false))
                == "PCI: slot 1 function 0 already occupied by PIIX3, new func e1000 cannot be exposed to guest.")
        _ = try bus.claim(driver: "e1000", id: "a", requested: PCIAddress(slot: 31, function: 7), multifunction: false).get()
        #expect(Self.error(bus.claim(driver: "e1000", id: "b", requested: PCIAddress(slot: 31, function: 0), multifunction: false))
                == "PCI: 1f.0 indicates single function, but 1f.7 is already populated.")
        #expect(try bus.claim(driver: "e1000", id: "b", requested: PCIAddress(slot: 31, function: 0), multifunction: true).get()
                == PCIAddress(slot: 31, function: 0))
    }

    @Test func everySlotTaken() throws {
        let bus = try Self.pcBus(DeviceRegistry())
        for _ in 2..<32 { _ = try bus.claim(driver: "e1000", id: nil, requested: nil, multifunction: false).get() }
        #expect(Self.error(bus.claim(driver: "e1000", id: nil, requested: nil, multifunction: false))
                == "PCI: no slot/function available for e1000, all in use or reserved")
    }
}
