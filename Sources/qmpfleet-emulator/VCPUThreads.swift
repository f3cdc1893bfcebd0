#if canImport(Glibc)
import Glibc
#endif

/// Idle host threads standing for the vCPUs, as QEMU has one thread per
/// vCPU: libvirt moves each `query-cpus-fast` thread id into its vCPU
/// cgroup and pins it, which fails for an id that is no thread.
enum VCPUThreads {
    /// Starts `count` threads that sleep until the process ends; returns
    /// their kernel thread ids in order.
    static func spawn(_ count: Int) -> [Int] {
        var fds: [Int32] = [0, 0]
        guard count > 0, pipe(&fds) == 0 else { return [] }
        defer { close(fds[0]); close(fds[1]) }
        var ids: [Int] = []
        for _ in 0..<count {
            var thread = pthread_t()
            let writeEnd = UnsafeMutableRawPointer(bitPattern: Int(fds[1]) + 1)
            guard pthread_create(&thread, nil, { arg in
                // gettid(2) is not in Swift's Glibc: /proc/thread-self is "PID/task/TID".
                var link = [CChar](repeating: 0, count: 64)
                let n = readlink("/proc/thread-self", &link, link.count - 1)
                let text = n > 0 ? String(decoding: link[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
                var tid = pid_t(text.split(separator: "/").last.flatMap { Int32($0) } ?? 0)
                let fd = Int32(Int(bitPattern: arg) - 1)
                _ = write(fd, &tid, MemoryLayout<pid_t>.size)
                while true { pause() }
            }, writeEnd) == 0 else { break }
            pthread_detach(thread)
            var tid: pid_t = 0
            guard read(fds[0], &tid, MemoryLayout<pid_t>.size) == MemoryLayout<pid_t>.size else { break }
            ids.append(Int(tid))
        }
        return ids
    }
}
