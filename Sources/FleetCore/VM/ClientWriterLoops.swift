/// Which loop writes each of a VM's clients that its own loop does not
/// (`CrossLoopTransport`), and how many each loop writes: what chooses the
/// loop for the next client.
///
/// The choice used to be made from the number of clients attached, in
/// turn (the VM's loop, then the next, ...): clients that came and went
/// skewed it for good, since who left was never counted. Now a new client
/// past `clients-written-by-vm-loop` goes to the loop that writes the
/// fewest of this VM's clients, the VM's own loop counting only those past
/// the threshold (it also runs every session); a tie goes to the VM's own
/// loop, then to the nearest after it. With nobody leaving that is the same
/// alternation as before. Loop-confined (the VM's loop), as the VM.
struct ClientWriterLoops {
    /// Clients written by each loop, by loop index; grown at the first.
    private(set) var counts: [Int] = []
    /// The writing loop of each such session, by session id.
    private var loopOfSession: [UInt64: Int] = [:]

    /// Clients another loop writes.
    var total: Int { loopOfSession.count }

    /// The loop to write a new client of a VM on loop `own` of `loopCount`
    /// that has `attached` clients: nil for the VM's own loop.
    func choose(own: Int, loopCount: Int, attached: Int, threshold: Int) -> Int? {
        let ownWritten = attached - total
        guard loopCount > 1, ownWritten >= threshold else { return nil }
        var best = own
        var fewest = ownWritten - threshold
        for step in 1..<loopCount {
            let index = (own + step) % loopCount
            let written = index < counts.count ? counts[index] : 0
            if written < fewest {
                best = index
                fewest = written
            }
        }
        return best == own ? nil : best
    }

    /// `session` is written by loop `index`.
    mutating func add(session: UInt64, loop index: Int) {
        if counts.count <= index { counts += repeatElement(0, count: index + 1 - counts.count) }
        counts[index] += 1
        loopOfSession[session] = index
    }

    /// `session` ended (whichever loop wrote it).
    mutating func remove(session: UInt64) {
        guard let index = loopOfSession.removeValue(forKey: session) else { return }
        counts[index] -= 1
    }

    mutating func removeAll() {
        counts.removeAll()
        loopOfSession.removeAll()
    }
}
