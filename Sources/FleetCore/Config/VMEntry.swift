import QMPWire

/// One `vms:` entry read and checked over its template, before any VM is
/// named from it: what its `count` VMs share.
///
/// The entry's keys are read once, however many VMs it makes; only the
/// name and what follows from it (the guest name, a derived UUID) are the
/// VM's own. `Router.spec(creating:source:)` keeps the last one read, so
/// 10,000 `vm-create`s that differ only in `name` read their template once
/// (reading it per request was a tenth of creating a VM).
struct VMEntry {
    /// Where errors about the entry point.
    let reader: ConfigReader
    /// The `name` key: a VM's name, or a pattern with `{n}`.
    let pattern: String
    let count: Int
    let first: Int
    /// The entry over its template, named `pattern`.
    let spec: VMSpec
    /// The entry sets `guest-name` itself.
    let namesGuest: Bool
    /// The template's guest name (the entry's base), when there is a template.
    let templateGuestName: String??
    /// The entry sets `uuid` itself.
    let hasUUID: Bool

    init(_ r: ConfigReader, config: FleetConfig) throws(FleetError) {
        try r.checkKeys(VMSpec.keys)
        guard let pattern = try r.string("name") else { throw r.error("missing", key: "name") }
        var base = VMSpec(name: pattern)
        var templateGuestName: String?? = nil
        if let template = try r.string("template") {
            guard let t = config.templates[template] else {
                throw r.error("no template named '\(template)' (templates: \(config.templates.keys.sorted().joined(separator: ", ")))", key: "template")
            }
            base = t
            templateGuestName = .some(t.guestName)
        }
        let count = try r.int("count") ?? 1
        let first = try r.int("first") ?? 0
        guard count >= 1 else { throw r.error("expected a count of at least 1", key: "count") }
        // `count` sizes an array, and `first + count` must not overflow.
        guard count <= config.limits.vmsPerFleet else {
            throw r.error("expected a count of at most \(config.limits.vmsPerFleet) (limits.vms-per-fleet)", key: "count")
        }
        guard first <= Int.max - count else { throw r.error("expected first + count to be at most \(Int.max)", key: "first") }
        guard count == 1 || pattern.contains("{n}") else {
            throw r.error("with count > 1 the name needs a {n} placeholder", key: "name")
        }
        reader = r
        self.pattern = pattern
        self.count = count
        self.first = first
        spec = try VMSpec.parse(r, base: base, config: config)
        namesGuest = try r.string("guest-name") != nil
        self.templateGuestName = templateGuestName
        hasUUID = try r.string("uuid") != nil
    }

    /// A single VM's entry (`vm-create`, an emulator's command line): its
    /// `count` is ignored, and `source` names it in error texts.
    init(single entry: JSONObject, source: String, config: FleetConfig) throws(FleetError) {
        var entry = entry
        entry["count"] = nil
        try self.init(ConfigReader(file: source, path: "config", value: .object(entry)), config: config)
    }

    /// The same entry with another `name` (a single VM's: no `count`).
    func renamed(_ name: String) -> VMEntry {
        VMEntry(reader: reader, pattern: name, count: count, first: first, spec: spec, namesGuest: namesGuest,
                templateGuestName: templateGuestName, hasUUID: hasUUID)
    }

    private init(reader: ConfigReader, pattern: String, count: Int, first: Int, spec: VMSpec, namesGuest: Bool,
                 templateGuestName: String??, hasUUID: Bool) {
        self.reader = reader
        self.pattern = pattern
        self.count = count
        self.first = first
        self.spec = spec
        self.namesGuest = namesGuest
        self.templateGuestName = templateGuestName
        self.hasUUID = hasUUID
    }

    /// The entry's VM numbered `first + offset` (`ci-{n}` → `ci-7`).
    func spec(number offset: Int, nameLimit: Int) throws(FleetError) -> VMSpec {
        var spec = self.spec
        spec.name = pattern.replacingPlaceholder(with: first + offset)
        if let problem = VMNameRule.problem(with: spec.name, limit: nameLimit) {
            throw reader.error(problem, key: "name")
        }
        // The guest is named after the VM unless the entry names it, or
        // names it as its base or its pattern would be (QEMU has no
        // `-name guest=` then either).
        let baseGuestName = templateGuestName ?? pattern
        if !namesGuest || self.spec.guestName == baseGuestName || self.spec.guestName == pattern { spec.guestName = spec.name }
        if !hasUUID { spec.uuid = VMSpec.derivedUUID(for: spec.name) }
        return spec
    }
}
