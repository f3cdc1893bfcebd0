/// `/objects` as QEMU 7.2's `qom-list` lists it: the board's RAM backend
/// and the user's objects in the reverse of their property table's
/// visiting order (`QOMPropertyTable`), which depends on every add and
/// delete. A VM that never had an object keeps no table.
extension VM {
    /// The ids under `/objects`, in `qom-list`'s order.
    var objectChildNames: [String] {
        if let objectTable { return objectTable.listed }
        return boardRAMBackend.map { [$0.id] } ?? []
    }

    /// `objects[id]` was set: the board's RAM backend, made with the
    /// machine, came first.
    func objectAdded(_ id: String) {
        let table = objectTable ?? QOMPropertyTable(inserting: boardRAMBackend.map { [$0.id] } ?? [])
        table.insert(id)
        objectTable = table
    }

    /// `objects[id]` was removed.
    func objectRemoved(_ id: String) {
        objectTable?.remove(id)
    }
}
