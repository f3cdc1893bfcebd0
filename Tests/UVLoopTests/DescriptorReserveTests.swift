#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import UVLoop

/// The loop's spare descriptor: with it a listener out of descriptors
/// drains its backlog instead of being woken for it again and again.
struct DescriptorReserveTests {
    @Test func shedAcceptsAndClosesWhatWaitsAndKeepsTheSpare() throws {
        let path = LoopHarness.socketPath("shed")
        defer { unlink(path) }
        let listening = UnixListenerTests.rawSocket(at: path, listening: true)
        defer { close(listening) }
        _ = fcntl(listening, F_SETFL, fcntl(listening, F_GETFL) | O_NONBLOCK)
        var clients: [Int32] = []
        for _ in 0..<3 {
            let client = UnixListenerTests.client(of: path)
            clients.append(client)
        }
        defer { for c in clients { close(c) } }
        let reserve = DescriptorReserve()
        #expect(reserve.shed(listening) == 3)
        // Each client sees its connection end, unanswered.
        for client in clients {
            var byte: UInt8 = 0
            #expect(read(client, &byte, 1) == 0)
        }
        // Nothing waits any more: nothing to shed (a listener would pause).
        #expect(reserve.shed(listening) == 0)
    }

    @Test func exhaustionIsReportedAtMostOnceASecond() {
        let first = DescriptorReserve.report(shed: 2, on: "/s", nowMilliseconds: 10_000)
        #expect(first?.hasPrefix("out of file descriptors (EMFILE/ENFILE): 2 connection(s)") == true)
        #expect(DescriptorReserve.report(shed: 5, on: "/s", nowMilliseconds: 10_500) == nil)
        #expect(DescriptorReserve.report(shed: 1, on: "/s", nowMilliseconds: 10_999) == nil)
        let next = DescriptorReserve.report(shed: 1, on: "/s", nowMilliseconds: 11_000)
        #expect(next?.hasPrefix("out of file descriptors (EMFILE/ENFILE): 7 connection(s)") == true)
    }
}
