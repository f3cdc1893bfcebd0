/// The order in which `qom-list` lists one QOM container's children
/// (`/machine/peripheral`, `/machine/peripheral-anon`), as
/// QEMU 7.2 lists them: `type`, then the children in the reverse of their
/// property table's visiting order (`QOMPropertyTable`).
///
/// Until a child leaves, that table is the live children inserted in the
/// order they came, so nothing is kept and the table is rebuilt when a
/// client asks (qom-list is rare; 10,000 VMs keep no table). The first
/// removal makes the table real, tombstone and all, and from then on every
/// add and removal is applied to it.
///
/// Loop-confined, owned by the VM's device registry (one word while no
/// child has left).
struct QOMChildOrder {
    private var table: QOMPropertyTable?

    /// A child named `name` was added (after the others).
    mutating func added(_ name: String) {
        table?.insert(name)
    }

    /// The child `name` left; `children` are the children before it left,
    /// in the order they were added (it among them).
    mutating func removed(_ name: String, from children: some Sequence<String>) {
        let table = self.table ?? QOMPropertyTable(inserting: children)
        table.remove(name)
        self.table = table
    }

    /// The children's names as `qom-list` lists them; `children` are the
    /// live ones in the order they were added.
    func listed(_ children: some Sequence<String>) -> [String] {
        (table ?? QOMPropertyTable(inserting: children)).listed
    }
}
