/// What one loop's sessions wrote this turn for clients whose writes another
/// loop makes (`CrossLoopWriter`), handed to that loop in one
/// `EventLoop.execute` when the turn ends.
///
/// Consecutive writes of the same bytes (an event queued to every client)
/// are one item: the encoded event and the list of its writers, so an event
/// crosses loops once, not once per client. Items keep the order they were
/// added in, so each writer gets its replies, events and close in order.
/// Loop-confined (the loop that writes); `items` is
/// `@exclusivity(unchecked)` (one thread, no access across a call): an
/// event to 1,000 clients appends to it for each.
final class WriteHandoff {
    enum Kind: Sendable { case write, close, closeAfterFlush }

    struct Item: Sendable {
        var kind: Kind
        var bytes: [UInt8]
        var writers: [CrossLoopWriter]
    }

    let target: EventLoop
    private let flushes: DeferredFlushes
    @exclusivity(unchecked) private var items: [Item] = []
    private var scheduled = false

    init(target: EventLoop, flushes: DeferredFlushes) {
        self.target = target
        self.flushes = flushes
    }

    func add(_ kind: Kind, _ bytes: [UInt8], for writer: CrossLoopWriter) {
        if kind == .write, let last = items.indices.last, items[last].kind == .write, TurnEventBuffer.sameStorage(items[last].bytes, bytes) {
            items[last].writers.append(writer)
        } else {
            items.append(Item(kind: kind, bytes: bytes, writers: [writer]))
        }
        guard !scheduled else { return }
        if flushes.isOpen {
            scheduled = true
            flushes.add(self)
        } else {
            send()
        }
    }

    /// The turn is over: hands its items to the target loop.
    func send() {
        scheduled = false
        guard !items.isEmpty else { return }
        let batch = items
        items = []
        target.execute { CrossLoopWriter.perform(batch) }
    }
}
