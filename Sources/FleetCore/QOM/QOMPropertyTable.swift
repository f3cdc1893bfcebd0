import QMPWire

/// One QOM object's property table as GLib lays it out (`GHashTableOrder`
/// with `g_str_hash`), for the order of its children.
///
/// QEMU 7.2 keeps each object's properties, its children among them, in a
/// `GHashTable`, and `qom-list` answers in the reverse of the table's
/// visiting order (`QAPI_LIST_PREPEND`): `/machine/peripheral` with nic0,
/// nic1, video0, balloon0 and ser0 added in that order lists ser0,
/// balloon0, nic1, video0, nic0. A removal leaves a tombstone that later
/// inserts and resizes depend on, so the order follows the whole history.
///
/// Loop-confined. A class, so a VM that keeps none pays one word for it
/// (`QOMChildOrder`, `VM.objectTable`).
final class QOMPropertyTable {
    private var table = GHashTableOrder<String>(hash: GHashTableOrder<String>.strHash)

    /// A table that had `names` inserted in this order and nothing removed.
    init(inserting names: some Sequence<String>) {
        for name in names { table.insert(name) }
    }

    func insert(_ name: String) { table.insert(name) }

    func remove(_ name: String) { table.remove(name) }

    /// The names as `qom-list` lists them.
    var listed: [String] { table.iterationOrder.reversed() }
}
