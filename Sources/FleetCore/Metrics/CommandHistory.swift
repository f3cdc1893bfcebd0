/// The last N commands a VM answered (N is `command-history-per-vm`), oldest
/// first: what the fleet page shows when someone opens the VM.
///
/// A ring: once full, each new record takes the oldest one's slot, so a
/// VM's history never grows past its limit however busy the VM is.
struct CommandHistory {
    let capacity: Int
    private var slots: [CommandRecord] = []
    /// Where the next record goes once the ring is full.
    private var next = 0
    /// Commands recorded so far (the next record's sequence is this plus one).
    private(set) var total: UInt64 = 0

    init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    mutating func nextSequence() -> UInt64 {
        total &+= 1
        return total
    }

    mutating func append(_ record: CommandRecord) {
        guard capacity > 0 else { return }
        if slots.count < capacity {
            slots.append(record)
        } else {
            slots[next] = record
            next = (next + 1) % capacity
        }
    }

    /// The records, oldest first.
    var records: [CommandRecord] {
        guard slots.count == capacity, next > 0 else { return slots }
        return Array(slots[next...] + slots[..<next])
    }
}
