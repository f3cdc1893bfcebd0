@testable import FleetCore
import QMPWire
import Testing

/// `addr` as QEMU 7.2's `set_pci_devfn` reads it; each expectation is what
/// `device_add e1000,addr=...` did on QEMU 7.2 (the slot it took, or
/// "doesn't take value").
@Suite struct PCIAddressTests {
    static func parsed(_ value: JSONValue) -> String? {
        switch PCIAddress.parse(property: value) {
        case .success(let address): return address.map(\.description) ?? "unset"
        case .failure: return nil
        }
    }

    @Test func hexSlotAndOptionalFunction() {
        #expect(Self.parsed("3") == "3.0")
        #expect(Self.parsed("0x5") == "5.0")
        #expect(Self.parsed("0X5") == "5.0")
        #expect(Self.parsed("3.1") == "3.1")
        #expect(Self.parsed("0x1f.7") == "1f.7")
        #expect(Self.parsed("0x4.0x1") == "4.1")
        // Hex, not decimal: "10" is slot 16, "08" slot 8, "a" slot 10.
        #expect(Self.parsed("10") == "10.0")
        #expect(Self.parsed("08") == "8.0")
        #expect(Self.parsed("a") == "a.0")
    }

    @Test func glibcScanfCorners() {
        #expect(Self.parsed(" 7") == "7.0")
        #expect(Self.parsed("+3") == "3.0")
        #expect(Self.parsed("-0") == "0.0")
        #expect(Self.parsed("0x") == "0.0")
        #expect(Self.parsed("3. 1") == "3.1")
        #expect(Self.parsed("3.+1") == "3.1")
        #expect(Self.parsed("3.-0") == "3.0")
        // %x stores an unsigned int: the value wraps to 32 bits.
        #expect(Self.parsed("ffffffff00000003") == "3.0")
        #expect(Self.parsed("100000000") == "0.0")
    }

    @Test func refusedValues() {
        for text in ["zz", "0x20", "6.8", "-1", "7.", "3.1 ", "", "1f.8", "0xg"] {
            #expect(Self.parsed(.string(text)) == nil, "\(text)")
        }
        #expect(PCIAddress.parse(property: "zz") == .failure(.init(text: "zz")))
    }

    @Test func nonStringValuesAsQemuOptsPrintsThem() {
        #expect(Self.parsed(6) == "6.0")
        #expect(Self.parsed(-1) == nil)
        #expect(Self.parsed(.double(4.5)) == "4.5")
        // A bool becomes "on": refused with that text.
        #expect(PCIAddress.parse(property: true) == .failure(.init(text: "on")))
        #expect(Self.parsed(.null) == "unset")
    }
}
