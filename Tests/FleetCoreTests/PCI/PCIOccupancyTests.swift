@testable import FleetCore
import Testing

/// The bits `PCIBus.claim` places devices by, against the occupants it
/// names in its errors.
@Suite struct PCIOccupancyTests {
    @Test func bitsOfEveryWord() {
        var taken = PCIOccupancy()
        for devfn: UInt8 in [0, 63, 64, 130, 255] { taken.insert(devfn) }
        #expect((0...255).filter { taken.contains(UInt8($0)) } == [0, 63, 64, 130, 255])
        taken.remove(64)
        #expect(!taken.contains(64) && taken.contains(63) && taken.contains(130))
        #expect(taken.firstOtherFunction(ofSlot: 0) == nil)
        taken.insert(5)
        taken.insert(3)
        #expect(taken.firstOtherFunction(ofSlot: 0) == 3)
        #expect(taken.firstOtherFunction(ofSlot: 31) == 7)
    }

    /// pc's board functions, then two claims: the bits are the functions
    /// `occupant` finds, no more.
    @Test func busOccupancyIsItsOccupants() throws {
        let bus = try PCIBusTests.pcBus(DeviceRegistry())
        let claimed = try bus.claim(driver: "e1000", id: "n0", requested: nil, multifunction: false).get()
        _ = try bus.claim(driver: "e1000", id: "n1", requested: PCIAddress(slot: 5, function: 2), multifunction: false, hotplugged: false).get()
        let taken = bus.occupancy
        for devfn in 0...255 {
            #expect(taken.contains(UInt8(devfn)) == (bus.occupant(UInt8(devfn)) != nil), "devfn \(devfn)")
        }
        #expect(taken.contains(claimed.devfn))
        bus.endClaim(claimed)
        #expect(!bus.occupancy.contains(claimed.devfn))
    }

    /// A place taken without holding a claim (a configured device, which
    /// its VM registers at once) leaves the bus as it was.
    @Test func aPlaceTakenUnheldLeavesNoClaim() throws {
        let bus = try PCIBusTests.pcBus(DeviceRegistry())
        let before = bus.occupancy
        let first = try bus.claim(driver: "e1000", id: "n0", requested: nil, multifunction: false, hotplugged: false, held: false).get()
        #expect(first == PCIAddress(slot: 2, function: 0))
        #expect(bus.occupancy == before)
        #expect(try bus.claim(driver: "e1000", id: "n1", requested: nil, multifunction: false).get() == first)
    }
}
