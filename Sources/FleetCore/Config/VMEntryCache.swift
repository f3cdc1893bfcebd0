import QMPWire

/// The last single-VM entry a router read (`VMEntry`), kept by its keys
/// other than `name`: a burst of `vm-create`s naming one template differs
/// only in the name, so the template is read and checked once for the
/// burst, not once per VM. Loop-confined (its router's).
struct VMEntryCache {
    private var last: (key: JSONObject, source: String, entry: VMEntry)?

    /// The one VM `entry` describes (as `VMSpec.single` reads it).
    mutating func spec(of entry: JSONObject, source: String, config: FleetConfig) throws(FleetError) -> VMSpec {
        var key = entry
        key["name"] = nil
        key["count"] = nil
        if let name = entry["name"]?.stringValue, let last, last.source == source, last.key == key {
            return try last.entry.renamed(name).spec(number: 0, nameLimit: config.limits.vmNameBytes)
        }
        let read = try VMEntry(single: entry, source: source, config: config)
        last = (key, source, read)
        return try read.spec(number: 0, nameLimit: config.limits.vmNameBytes)
    }
}
