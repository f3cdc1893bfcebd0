import FleetCore
import Logging
@testable import Proxy
import QMPFleetTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A launched upstream that ignores SIGTERM is reaped on the scheduler,
/// never with a waitpid that blocks the loop, and killed after the grace.
@Suite struct ChildReaperTests {
    @Test func aChildThatIgnoresSIGTERMIsKilledAfterTheGraceAndReaped() throws {
        var pid: pid_t = 0
        let words: [String] = ["/bin/sh", "-c", "trap '' TERM; sleep 30"]
        var argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        #expect(posix_spawn(&pid, "/bin/sh", nil, nil, &argv, environ) == 0)
        usleep(100_000)  // the trap is set
        let clock = VirtualScheduler()
        kill(pid, SIGTERM)
        let started = clock.nowMilliseconds
        ChildReaper.reap(pid, scheduler: clock, logger: Logger(label: "test"))
        #expect(clock.nowMilliseconds == started)  // returned at once
        usleep(100_000)
        #expect(kill(pid, 0) == 0)  // still there: it ignored SIGTERM
        clock.advance(by: ChildReaper.graceMilliseconds + ChildReaper.interval)
        var reaped = false
        for _ in 0..<100 where !reaped {
            usleep(20_000)
            clock.advance(by: ChildReaper.interval)
            reaped = kill(pid, 0) != 0 && errno == ESRCH
        }
        #expect(reaped)
    }
}
