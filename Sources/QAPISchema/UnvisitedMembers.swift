import QMPWire

/// Which unexpected member QEMU names when an object has several.
///
/// QEMU's input visitor copies an object's keys into a GLib `GHashTable`
/// (in the order its QDict iterates them), removes each key as a declared
/// member consumes it, and then reports the first key the table's iterator
/// yields: `{"a": 1, "b": 2, "size": 1}` to `block_resize` gets
/// "Parameter 'b' is unexpected". `GHashTableOrder` replays GLib 2.74's
/// table exactly, here with `g_str_hash`.
struct UnvisitedMembers {
    private var table = GHashTableOrder<String>(hash: GHashTableOrder<String>.strHash)

    /// The keys of `object`, inserted as `qdict_iter` yields them.
    init(_ object: JSONObject) {
        for index in QDictOrder.writeOrder(of: object) {
            table.insert(object.members[index].key)
        }
    }

    /// The key the table's iterator yields first: the one QEMU reports.
    var first: String? { table.first }

    /// A declared member consumed the key (`qobject_input_try_get_object`).
    mutating func remove(_ key: String) { table.remove(key) }
}
