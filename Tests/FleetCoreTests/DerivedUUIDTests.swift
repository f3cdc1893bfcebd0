@testable import FleetCore
import Testing

/// A VM's UUID from its name: the texts main's 574c757 gave (its
/// `query-uuid` for VMs of these names), so a VM keeps its UUID across
/// the rewrite that writes it into the string's bytes.
@Suite struct DerivedUUIDTests {
    @Test func sameTextsAsBefore() {
        #expect(VMSpec.derivedUUID(for: "vm-0") == "1fdcc700-d971-8971-9e3f-5eccadd83b46")
        #expect(VMSpec.derivedUUID(for: "c-1") == "f6e54a19-0dc0-8dc0-8db9-31d83e28e1c2")
        #expect(VMSpec.derivedUUID(for: "é-ü") == "8859eb0d-229d-829d-ad8b-6111d15f00b9")
        #expect(VMSpec.derivedUUID(for: "") == "cbf29ce4-8422-8422-8422-2325cbf29ce4")
        #expect(VMSpec.derivedUUID(for: String(repeating: "x", count: 300)) == "e78ddf9f-1ba8-8ba8-855b-7b22882f516c")
    }
}
