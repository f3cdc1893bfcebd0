import Foundation

/// CPU time in nanoseconds, to say what a round trip costs the machine and
/// not only how many fit in a second.
///
/// A rate on a shared two-core machine measures the CPU share each side
/// wins as much as its cost: the echo server runs a thread per client, the
/// fleet two loops, and under other load the kernel's fair share per thread
/// gives the echo side more of the cores. CPU per request (server and
/// clients apart) does not depend on that share.
enum CPUTime {
    /// The calling thread's CPU time.
    static func thread() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
        return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
    }

    /// The CPU time of every live thread of process `pid` (the first field
    /// of each `/proc/PID/task/TID/schedstat`: nanoseconds on a CPU).
    static func process(_ pid: Int32) -> UInt64 {
        let tasks = "/proc/\(pid)/task"
        guard let threads = try? FileManager.default.contentsOfDirectory(atPath: tasks) else { return 0 }
        var total: UInt64 = 0
        for tid in threads {
            guard let text = try? String(contentsOfFile: "\(tasks)/\(tid)/schedstat", encoding: .utf8),
                  let field = text.split(separator: " ").first, let nanoseconds = UInt64(field) else { continue }
            total &+= nanoseconds
        }
        return total
    }
}

/// One ping-pong measurement: its rate and what each request cost the
/// server and the clients in CPU time (nil where the server's is unknown).
struct PingPongCost {
    var rate: Double
    var serverMicroseconds: Double?
    var clientMicroseconds: Double
}
