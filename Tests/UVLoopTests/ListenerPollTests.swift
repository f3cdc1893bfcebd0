#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Testing
@testable import UVLoop

/// A loop's listening sockets in one epoll set: each accepts its own
/// clients, one closed leaves the others serving, and the set keeps the
/// loop running only while a listener is watched.
struct ListenerPollTests {
    @Test func eachListenerAcceptsItsOwnClients() throws {
        let loop = try EventLoop()
        let paths = (0..<5).map { LoopHarness.socketPath("poll\($0)") }
        var accepted = [Int](repeating: 0, count: paths.count)
        var connections: [UnixConnection] = []
        var listeners: [UnixListener] = []
        for (index, path) in paths.enumerated() {
            listeners.append(try UnixListener(loop: loop, path: path) { connection in
                accepted[index] += 1
                connections.append(connection)
                if accepted.reduce(0, +) == 4 { loop.stop() }
            })
        }
        // Two clients of listener 1, one each of 3 and 4, none of 0 and 2.
        let clients = [1, 1, 3, 4].map { UnixListenerTests.client(of: paths[$0]) }
        defer { for client in clients { close(client) } }
        #expect(LoopHarness.run(loop))
        #expect(accepted == [0, 2, 0, 1, 1])
        for connection in connections { connection.close() }
        for listener in listeners { listener.close() }
        for path in paths { #expect(!LoopHarness.exists(path)) }
    }

    @Test func aClosedListenerLeavesTheOthersServing() throws {
        let loop = try EventLoop()
        let first = LoopHarness.socketPath("pollA")
        let second = LoopHarness.socketPath("pollB")
        var acceptedBySecond = 0
        let closing = try UnixListener(loop: loop, path: first) { _ in Issue.record("a closed listener accepted") }
        let serving = try UnixListener(loop: loop, path: second) { connection in
            acceptedBySecond += 1
            connection.close()
            loop.stop()
        }
        closing.close()
        #expect(!LoopHarness.exists(first))
        let client = UnixListenerTests.client(of: second)
        defer { close(client) }
        #expect(LoopHarness.run(loop))
        #expect(acceptedBySecond == 1)
        serving.close()
    }

    /// With every listener closed the set is not watched: `run()` returns
    /// (a listener per VM kept the loop's poll handle busy only while open).
    @Test func aLoopWhoseListenersAllClosedEnds() throws {
        let loop = try EventLoop()
        let listeners = try (0..<3).map { try UnixListener(loop: loop, path: LoopHarness.socketPath("pollEnd\($0)")) { _ in } }
        for listener in listeners { listener.close() }
        // No harness timer (it would keep the loop running itself): a
        // watchdog on another thread stops a loop kept alive for nothing.
        let watchdog = DispatchWorkItem { loop.execute { loop.stop() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 2, execute: watchdog)
        let started = DispatchTime.now()
        loop.run()
        watchdog.cancel()
        #expect(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds < 1_000_000_000)
        // And a listener made after that is served by the set again.
        let path = LoopHarness.socketPath("pollAgain")
        var accepted = 0
        let again = try UnixListener(loop: loop, path: path) { connection in
            accepted += 1
            connection.close()
            loop.stop()
        }
        let client = UnixListenerTests.client(of: path)
        defer { close(client) }
        #expect(LoopHarness.run(loop))
        #expect(accepted == 1)
        again.close()
    }

    /// The loop's `closeAllHandles` closes the set's listeners: their files go.
    @Test func closingTheLoopsHandlesRemovesTheListenersFiles() throws {
        let loop = try EventLoop()
        let paths = (0..<3).map { LoopHarness.socketPath("pollAll\($0)") }
        let listeners = try paths.map { try UnixListener(loop: loop, path: $0) { _ in } }
        for path in paths { #expect(LoopHarness.exists(path)) }
        loop.closeAllHandles()
        for path in paths { #expect(!LoopHarness.exists(path)) }
        _ = listeners
    }
}
