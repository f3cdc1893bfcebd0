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
/// Loop-confined, as the plugin instance that keeps it.
struct ChardevOrder {
    static let monitorID = "compat_monitor0"
    private var table = GHashTableOrder<String>(hash: GHashTableOrder<String>.strHash)

    /// A table that had `configured` added, then the monitor's chardev.
    init(configured: some Sequence<String>) {
        for id in configured { table.insert(id) }
        table.insert(Self.monitorID)
    }

    mutating func insert(_ id: String) { table.insert(id) }

    mutating func remove(_ id: String) { table.remove(id) }

    /// The ids in QEMU's listing order (the monitor's among them).
    var listed: [String] { table.iterationOrder.reversed() }
}
