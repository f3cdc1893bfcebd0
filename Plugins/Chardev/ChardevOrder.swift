import QMPWire

/// The order QEMU 7.2 lists chardevs in: `query-chardev` (and so HMP `info
/// chardev`) walks `/chardevs`' children, a GLib hash table, and prepends
/// each, so it answers in the reverse of the table's order, which depends
/// on every add and removal before (a `chardev-change` removes the id and
/// adds it again, as QEMU unparents the old chardev and adds the new one).
///
/// QEMU's table also holds the monitor's chardev, `compat_monitor0` (its
/// `-qmp`, last on the command line the fleet is compared with), which moves
/// the others' slots; it has its place here, after the configured chardevs,
/// but is not listed: a VM's QMP socket is the fleet's, not a chardev
/// (docs/qemu-differences.md).
///
/// Kept only once the VM's chardevs change: until then they are the ones
/// it was made (or migrated) with, in creation order, and the table is made
/// from them when asked. Most of a fleet's VMs never add or remove one, and
/// an eager table is a few heap blocks per VM (its hash and key arrays, the
/// hash closure): memory a VM need not hold for a query it may never get.
///
/// Loop-confined, as the plugin instance that keeps it.
struct ChardevOrder {
    static let monitorID = "compat_monitor0"
    private var table: GHashTableOrder<String>?

    init() {}

    /// QEMU's table after `ids` were added, then the monitor's chardev.
    private static func table(of ids: [String]) -> GHashTableOrder<String> {
        var table = GHashTableOrder<String>(hash: GHashTableOrder<String>.strHash)
        for id in ids { table.insert(id) }
        table.insert(monitorID)
        return table
    }

    /// Adds `id`; `held` is the VM's chardevs before this change, in
    /// creation order (read only while no table is kept).
    mutating func insert(_ id: String, held: @autoclosure () -> [String]) {
        if table == nil { table = Self.table(of: held()) }
        table!.insert(id)
    }

    /// Removes `id`; `held` as for `insert`, `id` still among them.
    mutating func remove(_ id: String, held: @autoclosure () -> [String]) {
        if table == nil { table = Self.table(of: held()) }
        table!.remove(id)
    }

    /// The ids in QEMU's listing order (the monitor's among them); `held` as
    /// for `insert`.
    func listed(held: @autoclosure () -> [String]) -> [String] {
        (table ?? Self.table(of: held())).iterationOrder.reversed()
    }
}
