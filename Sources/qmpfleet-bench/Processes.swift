import Foundation
import Synchronization

/// Starting and measuring the peers: qmpfleet, real QEMU, and the echo ceiling.
enum Processes {
    static func waitForSocket(_ path: String, timeout: TimeInterval = 60) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while access(path, F_OK) != 0 {
            guard Date() < deadline else { throw BenchError("timed out waiting for \(path)") }
            usleep(2000)
        }
    }

    /// - Parameter log: a file for the process's stderr (default: discarded).
    static func launch(_ executable: String, _ arguments: [String], log: String? = nil) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        if let log, FileManager.default.createFile(atPath: log, contents: nil), let handle = FileHandle(forWritingAtPath: log) {
            p.standardError = handle
        }
        try p.run()
        return p
    }

    /// Resident set size of a process, in bytes (VmRSS).
    static func rss(_ pid: Int32) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let kb = line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
            return kb * 1024
        }
        return 0
    }

    static func openFDs(_ pid: Int32) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? 0
    }

    /// Seconds the fleet's log says it took to create every VM
    /// ("fleet ready: ... (0.670 s)"), once it says so.
    static func fleetReadySeconds(log: String, timeout: TimeInterval = 10) -> Double? {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            if let text = try? String(contentsOfFile: log, encoding: .utf8),
               let line = text.split(separator: "\n").first(where: { $0.contains("fleet ready:") }),
               let open = line.lastIndex(of: "("), let seconds = Double(line[line.index(after: open)...].prefix { $0 != " " }) {
                return seconds
            }
            usleep(10_000)
        } while Date() < deadline
        return nil
    }

    static let qemuBinary = "/usr/bin/qemu-system-x86_64"

    static func startQEMU(machine: String, socket: String) throws -> Process {
        var args = ["-machine", machine, "-accel", "tcg", "-nodefaults", "-display", "none", "-qmp", "unix:\(socket),server=on,wait=off"]
        if machine != "none" { args.insert("-S", at: 0) }
        return try launch(qemuBinary, args)
    }

    static func stop(_ p: Process) {
        if p.isRunning { p.terminate() }
        p.waitUntilExit()
    }
}

/// A blocking echo server on a unix socket, one thread per client: the
/// ceiling of one request/response stream on this machine.
final class EchoServer: @unchecked Sendable {
    let path: String
    private let listener: Int32
    /// CPU time of the connection threads that have ended, and how many run.
    private let endedCPU = Atomic<UInt64>(0)
    private let running = Atomic<Int>(0)

    init(path: String) throws {
        self.path = path
        unlink(path)
        listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() where i < raw.count - 1 { raw[i] = b }
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0, listen(listener, 128) == 0 else { throw BenchError("echo bind/listen failed") }
        let fd = listener
        Thread.detachNewThread { [self] in
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 { return }
                running.add(1, ordering: .relaxed)
                Thread.detachNewThread { [self] in
                    defer {
                        endedCPU.add(CPUTime.thread(), ordering: .relaxed)
                        running.subtract(1, ordering: .relaxed)
                    }
                    // Greeting and the negotiation reply, as a QMP server would send.
                    let greeting = Array(#"{"QMP": {}}"#.utf8) + [13, 10]
                    _ = greeting.withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
                    var buffer = [UInt8](repeating: 0, count: 65536)
                    while true {
                        let n = read(client, &buffer, buffer.count)
                        if n <= 0 { break }
                        _ = write(client, buffer, n)
                    }
                    close(client)
                }
            }
        }
    }

    /// The CPU time of every connection thread so far, once those of
    /// clients that left have ended (at most `timeout` seconds' wait): read
    /// between measurements, it covers whole connections.
    func settledCPUNanoseconds(timeout: TimeInterval = 2) -> UInt64 {
        let deadline = Date().addingTimeInterval(timeout)
        while running.load(ordering: .relaxed) > 0 && Date() < deadline { usleep(1000) }
        return endedCPU.load(ordering: .relaxed)
    }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        unlink(path)
    }
}
