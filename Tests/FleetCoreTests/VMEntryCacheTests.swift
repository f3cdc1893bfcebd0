@testable import FleetCore
import FleetConfigFile
import QMPWire
import Testing

/// `vm-create`s that differ only in `name` read their entry once
/// (`VMEntryCache`); each VM is still the one `VMSpec.single` describes.
@Suite struct VMEntryCacheTests {
    static let config = try! FleetConfig.parse(yaml: """
        templates: {t: {machine: q35, plugins: {dump: {}}}, named: {guest-name: base}}
        vms: []
        """, file: "f")

    /// What matters of a spec for this: everything the name decides and a
    /// sample of what the entry does.
    static func summary(_ spec: VMSpec) -> [String] {
        [spec.name, spec.guestName ?? "-", spec.uuid, spec.machine.type, spec.template ?? "-", "\(spec.plugins.keys)"]
    }

    @Test func eachVMIsTheOneItsEntryDescribes() throws {
        var cache = VMEntryCache()
        let entries: [JSONObject] = [
            ["name": "a", "template": "t"],
            ["name": "b", "template": "t"],
            // The guest named as the first VM was: kept, not renamed.
            ["name": "c", "template": "t", "guest-name": "a"],
            ["name": "d", "template": "t", "guest-name": "a"],
            ["name": "e", "template": "t", "guest-name": "e"],
            ["name": "f", "template": "named"],
            ["name": "g", "template": "named", "guest-name": "base"],
            ["name": "h", "template": "named", "guest-name": "other"],
            ["name": "i", "template": "named", "guest-name": "other"],
            ["name": "j", "uuid": "00000000-0000-0000-0000-00000000000a"],
            ["name": "k", "uuid": "00000000-0000-0000-0000-00000000000a"],
            ["name": "l"],
            ["name": "m"],
            ["name": "n-{n}", "first": 4],
            ["name": "o-{n}", "first": 4],
        ]
        for entry in entries {
            let cached = try cache.spec(of: entry, source: "vm-create", config: Self.config)
            let read = try VMSpec.single(entry: entry, source: "vm-create", config: Self.config)
            #expect(Self.summary(cached) == Self.summary(read), "\(entry)")
        }
        #expect(try cache.spec(of: ["name": "o-{n}", "first": 4], source: "vm-create", config: Self.config).name == "o-4")
        // After "a" was read, "d" (guest named "a") keeps that guest name.
        _ = try cache.spec(of: ["name": "a", "guest-name": "a"], source: "vm-create", config: Self.config)
        let d = try cache.spec(of: ["name": "d", "guest-name": "a"], source: "vm-create", config: Self.config)
        #expect(d.guestName == "a" && d.uuid == VMSpec.derivedUUID(for: "d"))
    }

    @Test func aBadNameIsRefusedAfterAGoodOne() throws {
        var cache = VMEntryCache()
        _ = try cache.spec(of: ["name": "a", "template": "t"], source: "vm-create", config: Self.config)
        #expect(throws: FleetError.self) { try cache.spec(of: ["name": "x/y", "template": "t"], source: "vm-create", config: Self.config) }
        #expect(throws: FleetError.self) { try cache.spec(of: ["name": "fleet", "template": "t"], source: "vm-create", config: Self.config) }
        #expect(try cache.spec(of: ["name": "b", "template": "t"], source: "vm-create", config: Self.config).name == "b")
    }
}
