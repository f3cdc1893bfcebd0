#if canImport(Glibc)
import Glibc
#endif
import CUV
import SharedValues

/// A descriptor a loop keeps in reserve for when the process has run out
/// (libuv's "EMFILE trick", as node and other libuv users do it).
///
/// A listener whose `accept` fails with EMFILE or ENFILE leaves the
/// connection in the backlog, so the socket stays readable and a
/// level-triggered loop would call it again at once, forever: one thread at
/// 100% doing nothing, with every VM on it waiting. With the reserve, the
/// listener gives the spare descriptor back, accepts the waiting
/// connections and closes them at once (their clients see the connection
/// end, as when a limit refuses them), then takes the spare again. Where
/// even that fails (another thread took the freed slot) the listener pauses
/// for `pauseMilliseconds`. Loop-confined; one per loop, not per listener,
/// so 10,000 VM sockets cost one spare descriptor per loop, not 10,000.
public final class DescriptorReserve {
    /// How long a listener stops accepting when it could not shed.
    public static let pauseMilliseconds: UInt64 = 100
    /// Shortest time between two log lines about exhaustion, process-wide.
    public static let reportIntervalMilliseconds: UInt64 = 1000
    /// Connections shed per wake-up, like `UnixListener.acceptsPerWakeup`.
    static let shedPerWakeup = 64

    private var spare: Int32

    init() {
        spare = Self.openSpare()
    }

    deinit {
        if spare >= 0 { Glibc.close(spare) }
    }

    private static func openSpare() -> Int32 {
        open("/", O_RDONLY | O_CLOEXEC | O_DIRECTORY)
    }

    /// Whether `error` (an errno) means the process or system is out of descriptors.
    static func isExhaustion(_ error: Int32) -> Bool {
        error == EMFILE || error == ENFILE
    }

    /// Frees the spare, accepts and closes what waits on `listenFD`, and
    /// takes the spare back. Returns how many connections were shed; 0
    /// means the listener must pause (nothing could be accepted).
    func shed(_ listenFD: Int32) -> Int {
        if spare >= 0 {
            Glibc.close(spare)
            spare = -1
        }
        var shed = 0
        while shed < Self.shedPerWakeup {
            let client = cuv_accept_nonblocking(listenFD)
            guard client >= 0 else { break }
            Glibc.close(client)
            shed += 1
        }
        spare = Self.openSpare()
        return shed
    }

    /// What listeners log through, at most once per `reportIntervalMilliseconds`.
    private static let lastReport = Locked<(atMilliseconds: UInt64, shedSince: Int, hasReported: Bool)>((0, 0, false))

    /// Counts `shed` refused connections and returns the line to log now,
    /// or nil while the last line is less than a second old.
    static func report(shed: Int, on path: String?, nowMilliseconds now: UInt64) -> String? {
        lastReport.withLock { state in
            state.shedSince += shed
            guard !state.hasReported || now >= state.atMilliseconds + reportIntervalMilliseconds else { return nil }
            let line = "out of file descriptors (EMFILE/ENFILE): \(state.shedSince) connection(s) closed unanswered since the last report"
                + (path.map { ", the latest on \($0)" } ?? "") + "; raise the open-file limit or lower limits.clients-per-vm"
            state = (now, 0, true)
            return line
        }
    }
}
