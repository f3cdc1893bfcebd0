@testable import FleetCore
import Testing

/// Which loop writes a VM's next client past `clients-written-by-vm-loop`.
@Suite struct ClientWriterLoopsTests {
    /// Attaches `count` clients as the router does; returns each one's loop
    /// (nil: the VM's own).
    private func attach(_ count: Int, to writers: inout ClientWriterLoops, attached: inout Int, own: Int, loops: Int,
                        threshold: Int, firstID: UInt64) -> [Int?] {
        (0..<count).map { offset in
            let chosen = writers.choose(own: own, loopCount: loops, attached: attached, threshold: threshold)
            if let chosen { writers.add(session: firstID + UInt64(offset), loop: chosen) }
            attached += 1
            return chosen
        }
    }

    @Test func pastTheThresholdTheLoopsTakeTurns() {
        var writers = ClientWriterLoops()
        var attached = 0
        let chosen = attach(8, to: &writers, attached: &attached, own: 1, loops: 2, threshold: 4, firstID: 1)
        #expect(chosen == [nil, nil, nil, nil, nil, 0, nil, 0])
        #expect(writers.counts == [2])
        let three = attach(6, to: &writers, attached: &attached, own: 0, loops: 3, threshold: 20, firstID: 100)
        #expect(three == [nil, nil, nil, nil, nil, nil])
    }

    /// Clients that leave are counted out: the loop they left gets the
    /// next ones, where counting clients attached would have gone on
    /// alternating and left the other loop with ever more.
    @Test func theLoopWithFewestClientsGetsTheNext() {
        var writers = ClientWriterLoops()
        var attached = 0
        _ = attach(12, to: &writers, attached: &attached, own: 0, loops: 2, threshold: 2, firstID: 1)
        // Loop 1 writes clients 4, 6, 8, 10, 12 (ids): 5 of them; loop 0 the other 7.
        #expect(writers.counts == [0, 5])
        #expect(writers.total == 5)
        for id: UInt64 in [4, 6, 8, 10] { writers.remove(session: id) }
        attached -= 4
        #expect(writers.counts == [0, 1])
        // The VM's loop writes 5 past the threshold, loop 1 writes 1.
        let next = attach(5, to: &writers, attached: &attached, own: 0, loops: 2, threshold: 2, firstID: 50)
        #expect(next == [1, 1, 1, 1, nil])
        writers.remove(session: 999)
        #expect(writers.counts == [0, 5])
    }

    @Test func oneLoopWritesAll() {
        let writers = ClientWriterLoops()
        #expect(writers.choose(own: 0, loopCount: 1, attached: 500, threshold: 0) == nil)
    }
}
