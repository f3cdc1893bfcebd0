#if canImport(Glibc)
import Glibc
#endif
import QMPPluginKit
import QMPWire

/// The source side of one migration: QEMU 7.2's MigrationState and its
/// migration thread, run as loop callbacks.
///
/// setup → (connected: MIGRATION_PASS 1) active → RAM at `max-bandwidth`,
/// in 100 ms periods as QEMU's rate limiter counts them → when what is left
/// fits in `downtime-limit` at the measured bandwidth (or nothing is left):
/// the VM stops (STOP, finish-migrate), pre-switchover with
/// `pause-before-switchover` until migrate-continue, device, the final
/// dirty sync (MIGRATION_PASS), the rest of RAM and the device state, the
/// end mark → completed, postmigrate. `migrate-start-postcopy` switches
/// instead to postcopy-active: the VM stops, the device state goes first
/// and the target runs while the rest of RAM follows at
/// `max-postcopy-bandwidth`. The simulated guest dirties no memory, so one
/// pass always converges.
final class OutgoingMigration {
    /// QEMU's BUFFER_DELAY: the rate limit's period.
    static let periodMilliseconds: UInt64 = 100

    private enum Phase {
        /// Waiting for the connect.
        case connecting
        /// Precopy RAM under the rate limit.
        case bulk
        /// Stopped in pre-switchover until migrate-continue.
        case paused(postcopy: Bool)
        /// Switch-over (or postcopy): the rest goes unthrottled (precopy)
        /// or at max-postcopy-bandwidth; `finalQueued` once the end is out.
        case draining(finalQueued: Bool)
        /// postcopy-paused: the stream broke and waits for recovery.
        case broken
        case done
    }

    unowned let plugin: MigrationPlugin
    var vm: PluginVM { plugin.vm }
    private(set) var address: MigrationAddress?
    private(set) var status = MigrationStatus.setup
    private(set) var ram: RAMCounters
    private(set) var errorDesc: String?
    private var phase = Phase.connecting
    private var channel: MigrationChannel?
    private var connectFD: Int32 = -1
    private var connectWatch: FDWatchID?
    fileprivate var timer: TimerID?
    private var budget: UInt64 = 0
    private var inPostcopy = false
    private(set) var postcopyRequested = false
    /// What the VM was doing when migration stopped it (QEMU's vm_was_running).
    private var vmWasRunning = false
    /// The run state the target takes over (QEMU's global state).
    private var globalRunState = "running"
    /// Resume handshake (postcopy recovery): bytes of the target's answer.
    private var resumeAnswer: [UInt8] = []

    private let startTime: UInt64
    private var setupTime: UInt64 = 0
    private var stopTime: UInt64?
    private var downtime: UInt64?
    private var totalTime: UInt64?
    private var expectedDowntime: UInt64
    private var periodStart: UInt64 = 0
    private var periodStartWritten: UInt64 = 0
    private var periodPages: UInt64 = 0
    private var bytesAtStop: UInt64 = 0
    private var bytesAtPostcopy: UInt64 = 0
    private var writtenBefore: UInt64 = 0

    init(plugin: MigrationPlugin, ramSize: UInt64) {
        self.plugin = plugin
        ram = RAMCounters(total: ramSize)
        startTime = plugin.vm.nowMilliseconds
        expectedDowntime = plugin.parameters.downtimeLimit
    }

    // MARK: Start

    /// `migrate`: setup (MIGRATION event), then the connect. A failure known
    /// at once (a bad URI, an fd name that does not exist) fails the
    /// migration and the command, as QEMU does.
    func start(_ parsed: Result<MigrationAddress, QMPError>) -> Result<Void, QMPError> {
        setStatus(.setup)
        let address: MigrationAddress
        switch parsed {
        case .failure(let error):
            fail(error.desc)
            return .failure(error)
        case .success(let parsedAddress):
            address = parsedAddress
            self.address = address
        }
        switch address {
        case .fd(let name):
            switch vm.openFile("fd:\(name)", flags: O_RDWR) {
            case .failure(let error):
                fail(error.desc)
                return .failure(error)
            case .success(let fd):
                later { $0.connected(fd) }
            }
        case .unix, .inet:
            beginConnect(address)
        }
        return .success(())
    }

    private func beginConnect(_ address: MigrationAddress) {
        switch MigrationSocket.connect(address) {
        case .connected(let fd):
            later { $0.connected(fd) }
        case .failed(let reason):
            // QEMU connects on a thread: the failure follows the reply.
            later { $0.fail(reason) }
        case .inProgress(let fd):
            connectFD = fd
            connectWatch = vm.watch(fd: fd, events: .writable) { [weak self] _ in self?.connectReady(address) }
            if connectWatch == nil {
                close(fd)
                connectFD = -1
                later { $0.fail("cannot watch the migration socket") }
            }
        }
    }

    private func connectReady(_ address: MigrationAddress) {
        guard connectFD >= 0 else { return }
        if let connectWatch { vm.unwatch(connectWatch) }
        connectWatch = nil
        let fd = connectFD
        connectFD = -1
        if let error = MigrationSocket.connectResult(fd, address) {
            close(fd)
            fail(error)
        } else {
            connected(fd)
        }
    }

    /// Runs `body` on a later loop turn, unless the migration has gone.
    private func later(_ body: @escaping (OutgoingMigration) -> Void) {
        vm.startTimer(afterMilliseconds: 0) { [weak self] in
            guard let self else { return }
            body(self)
        }
    }

    private func connected(_ fd: Int32) {
        guard status.isRunning, status != .cancelling else {
            close(fd)
            return
        }
        guard let channel = MigrationChannel(vm: vm, fd: fd, outboxLimit: plugin.limits.outboxBytes) else {
            fail("cannot watch the migration socket")
            return
        }
        self.channel = channel
        channel.onClosed = { [weak self] reason in self?.channelClosed(reason) }
        channel.onWritable = { [weak self] in self?.pump() }
        channel.onData = { [weak self] bytes in self?.received(bytes) }
        channel.send(MigrationStream.header)
        if status == .postcopyRecover { return }   // waits for the target's resume answer
        setupTime = elapsed(since: startTime)
        dirtySync()
        setStatus(.active)
        phase = .bulk
        periodStart = vm.nowMilliseconds
        budget = periodBudget(plugin.parameters.maxBandwidth)
        timer = vm.startTimer(afterMilliseconds: OutgoingMigration.periodMilliseconds,
                              repeatEvery: OutgoingMigration.periodMilliseconds) { [weak self] in self?.tick() }
        pump()
    }

    // MARK: Sending

    /// The bytes one period allows at `bandwidth` bytes/s (0: no limit).
    private func periodBudget(_ bandwidth: UInt64) -> UInt64 {
        bandwidth == 0 ? .max : max(1, bandwidth / (1000 / OutgoingMigration.periodMilliseconds))
    }

    private func tick() {
        let now = vm.nowMilliseconds
        let elapsed = max(1, self.elapsed(since: periodStart))
        let written = bytesWritten
        let periodBytes = written &- periodStartWritten
        ram.mbps = Double(periodBytes) * 8 / Double(elapsed * 1000)
        ram.pagesPerSecond = periodPages * 1000 / elapsed
        let bytesPerMillisecond = periodBytes / elapsed
        periodStartWritten = written
        periodPages = 0
        periodStart = now
        switch phase {
        case .bulk:
            budget = periodBudget(plugin.parameters.maxBandwidth)
            let threshold = bytesPerMillisecond.multipliedReportingOverflow(by: plugin.parameters.downtimeLimit)
            let thresholdBytes = threshold.overflow ? UInt64.max : threshold.partialValue
            if bytesPerMillisecond > 0 { expectedDowntime = ram.remaining / bytesPerMillisecond }
            if postcopyRequested {
                startPostcopy()
            } else if thresholdBytes > 0 && ram.remaining < thresholdBytes {
                startSwitchover()
            }
        case .draining where inPostcopy:
            budget = periodBudget(plugin.parameters.maxPostcopyBandwidth)
        default:
            break
        }
        pump()
    }

    /// Milliseconds since `time` on the VM's clock.
    private func elapsed(since time: UInt64) -> UInt64 {
        let now = vm.nowMilliseconds
        return now >= time ? now - time : 0
    }

    var bytesWritten: UInt64 { writtenBefore &+ (channel?.bytesWritten ?? 0) }

    /// Queues what the phase allows while the socket queue has room.
    private func pump() {
        guard let channel, !channel.isClosed else { return }
        switch phase {
        case .bulk:
            sendRAM(channel, limited: true)
            if ram.remaining == 0 {
                if postcopyRequested { startPostcopy() } else { startSwitchover() }
            }
        case .draining(let finalQueued):
            if finalQueued {
                if channel.pendingBytes == 0 { complete() }
                return
            }
            sendRAM(channel, limited: inPostcopy)
            if ram.remaining == 0 {
                if !inPostcopy { sendDeviceState(channel) }
                channel.send(MigrationStream.record(.end))
                phase = .draining(finalQueued: true)
                if channel.pendingBytes == 0 { complete() }
            }
        default:
            break
        }
        ram.transferred = bytesWritten
    }

    /// The simulated guest's pages: zeros, one record's worth.
    private static let zeroPages = [UInt8](repeating: 0, count: MigrationStream.ramChunkBytes)

    /// Queues RAM records while the socket queue has room (and, when
    /// `limited`, the period's budget lasts), at most one queue's worth per
    /// call: the rest follows on the next writable callback, so one VM's
    /// migration never holds its loop for long.
    private func sendRAM(_ channel: MigrationChannel, limited: Bool) {
        var queued = 0
        while channel.room > 0 && queued < channel.outboxLimit && (!limited || budget > 0) {
            let limit = min(UInt64(MigrationStream.ramChunkBytes), limited ? budget : .max)
            guard let chunk = ram.take(atMost: limit) else { break }
            if limited { budget -= chunk.bytes }
            periodPages += (chunk.bytes + RAMCounters.pageSize - 1) / RAMCounters.pageSize
            var record = MigrationStream.recordHeader(.ram, length: 8 + Int(chunk.bytes))
            record.reserveCapacity(record.count + 8 + Int(chunk.bytes))
            record += MigrationStream.bigEndian(chunk.offset, bytes: 8)
            record += OutgoingMigration.zeroPages[0..<Int(chunk.bytes)]
            queued += record.count
            channel.send(record)
        }
        if ram.remaining > 0 && channel.room > 0 && (!limited || budget > 0) { channel.wakeWhenWritable() }
    }

    /// The device record: every migratable plugin's state and the run state.
    private func sendDeviceState(_ channel: MigrationChannel) {
        switch vm.saveDeviceState() {
        case .failure(let error):
            fail(error.desc)
        case .success(let state):
            let payload: JSONValue = ["run-state": .string(globalRunState), "device-state": state]
            channel.send(MigrationStream.record(.device, Array(payload.jsonText.utf8)))
        }
    }

    // MARK: Switch-over

    /// QEMU's migration_completion: stop the VM, maybe pause, then device.
    private func startSwitchover() {
        stopVM()
        if plugin.capabilities.isEnabled("pause-before-switchover") {
            phase = .paused(postcopy: false)
            setStatus(.preSwitchover)
            return
        }
        finishSwitchover()
    }

    private func finishSwitchover() {
        setStatus(.device)
        dirtySync()
        phase = .draining(finalQueued: false)
        pump()
    }

    private func stopVM() {
        globalRunState = vm.runState
        vmWasRunning = vm.isRunning
        stopTime = vm.nowMilliseconds
        bytesAtStop = bytesWritten
        vm.setRunState("finish-migrate")
    }

    /// QEMU's postcopy_start: postcopy-active, the VM stops, a dirty sync,
    /// maybe pre-switchover, then the device state and the rest of RAM.
    private func startPostcopy() {
        setStatus(.postcopyActive)
        stopVM()
        dirtySync()
        if plugin.capabilities.isEnabled("pause-before-switchover") {
            phase = .paused(postcopy: true)
            setStatus(.preSwitchover)
            return
        }
        runPostcopy()
    }

    private func runPostcopy() {
        guard let channel else { return }
        inPostcopy = true
        bytesAtPostcopy = bytesWritten
        channel.send(MigrationStream.record(.postcopy))
        sendDeviceState(channel)
        guard status.isRunning else { return }
        downtime = elapsed(since: stopTime ?? vm.nowMilliseconds)
        budget = periodBudget(plugin.parameters.maxPostcopyBandwidth)
        phase = .draining(finalQueued: false)
        pump()
    }

    /// `migrate-continue`: only in the state the client names.
    func continueFrom(_ state: String) -> Result<Void, QMPError> {
        guard state == status.rawValue else {
            return .failure(.generic("Migration not in expected state: \(status.rawValue)"))
        }
        guard case .paused(let postcopy) = phase else { return .success(()) }
        if postcopy {
            setStatus(.postcopyActive)
            runPostcopy()
        } else {
            finishSwitchover()
        }
        return .success(())
    }

    /// `migrate-start-postcopy`: switches at the next iteration.
    func requestPostcopy() {
        postcopyRequested = true
        if case .bulk = phase { later { $0.tick() } }
    }

    // MARK: Ends

    private func complete() {
        guard status.isRunning else { return }
        let now = vm.nowMilliseconds
        ram.transferred = bytesWritten
        ram.downtimeBytes = inPostcopy ? 0 : bytesWritten &- bytesAtStop
        ram.precopyBytes = inPostcopy ? bytesAtPostcopy : bytesWritten
        ram.postcopyBytes = inPostcopy ? bytesWritten &- bytesAtPostcopy : 0
        let total = elapsed(since: startTime)
        totalTime = total
        if total > 0 {
            // migration_calculate_complete: the whole run's rate.
            ram.mbps = Double(ram.transferred) * 8 / Double(total) / 1000
            ram.pagesPerSecond = ram.normalPages * 1000 / total
        }
        if downtime == nil { downtime = elapsed(since: stopTime ?? now) }
        phase = .done
        tearDown()
        setStatus(.completed)
        vm.setRunState("postmigrate")
    }

    /// The migration failed (`reason` is error-desc): the VM runs again if
    /// migration had stopped it, as migration_iteration_finish does.
    func fail(_ reason: String) {
        guard status.isRunning else { return }
        errorDesc = reason
        ram.transferred = bytesWritten
        phase = .done
        tearDown()
        setStatus(.failed)
        restartVM()
    }

    /// `migrate_cancel`: cancelling now, cancelled once the stream is down.
    func cancel() {
        guard status.isRunning, status != .cancelling else { return }
        setStatus(.cancelling)
        ram.transferred = bytesWritten
        phase = .done
        tearDown()
        later { migration in
            migration.setStatus(.cancelled)
            migration.restartVM()
        }
    }

    private func restartVM() {
        guard stopTime != nil, vm.runState == "finish-migrate" else { return }
        vm.setRunState(vmWasRunning ? "running" : "postmigrate")
    }

    private func channelClosed(_ reason: String?) {
        if inPostcopy && status == .postcopyActive {
            pauseStream()
            return
        }
        if case .draining(true) = phase, reason == nil {
            complete()
            return
        }
        fail(reason ?? "Unable to write to socket: Connection reset by peer")
    }

    private func tearDown() {
        if let timer { vm.cancelTimer(timer) }
        timer = nil
        closeStream()
    }

    fileprivate func closeStream() {
        if let connectWatch { vm.unwatch(connectWatch) }
        connectWatch = nil
        if connectFD >= 0 { close(connectFD) }
        connectFD = -1
        writtenBefore = bytesWritten
        channel?.close()
        channel = nil
    }

    // MARK: Postcopy recovery

    /// `migrate-pause` on the source in postcopy-active: the stream is
    /// shut down and the migration waits in postcopy-paused.
    func pause() -> Result<Void, QMPError> {
        guard status == .postcopyActive else {
            return .failure(.generic("migrate-pause is currently only supported during postcopy-active state"))
        }
        pauseStream()
        return .success(())
    }

    private func pauseStream() {
        writtenBefore = bytesWritten
        channel?.close()
        channel = nil
        phase = .broken
        setStatus(.postcopyPaused)
    }

    var isPaused: Bool { status == .postcopyPaused }

    /// `migrate` with `resume: true` to the target's migrate-recover address.
    func resume(to address: MigrationAddress) {
        setStatus(.postcopyRecover)
        resumeAnswer = []
        guard case .fd(let name) = address else { return beginConnect(address) }
        switch vm.openFile("fd:\(name)", flags: O_RDWR) {
        case .failure(let error): later { $0.fail(error.desc) }
        case .success(let fd): later { $0.connected(fd) }
        }
    }

    /// The target's answer to a resume: how much RAM it has (UInt64).
    private func received(_ bytes: UnsafeRawBufferPointer) {
        guard status == .postcopyRecover else { return }
        resumeAnswer += bytes
        guard resumeAnswer.count >= 8 else { return }
        let have = resumeAnswer.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        ram.remaining = ram.total - min(have, ram.total)
        setStatus(.postcopyActive)
        budget = periodBudget(plugin.parameters.maxPostcopyBandwidth)
        if let timer { vm.cancelTimer(timer) }
        timer = vm.startTimer(afterMilliseconds: OutgoingMigration.periodMilliseconds,
                              repeatEvery: OutgoingMigration.periodMilliseconds) { [weak self] in self?.tick() }
        phase = .draining(finalQueued: false)
        pump()
    }

    // MARK: Events and queries

    private func setStatus(_ new: MigrationStatus) {
        status = new
        if plugin.capabilities.isEnabled("events") { vm.emit("MIGRATION", ["status": .string(new.rawValue)]) }
    }

    private func dirtySync() {
        ram.dirtySyncCount += 1
        if plugin.capabilities.isEnabled("events") { vm.emit("MIGRATION_PASS", ["pass": .uint(ram.dirtySyncCount)]) }
    }

    /// query-migrate's MigrationInfo (fill_source_migration_info).
    var info: JSONObject {
        var info: JSONObject = ["status": .string(status.rawValue)]
        switch status {
        case .setup, .none:
            break
        case .failed:
            if let errorDesc { info["error-desc"] = .string(errorDesc) }
        case .cancelled:
            break
        case .completed:
            info["setup-time"] = .uint(setupTime)
            info["total-time"] = .uint(totalTime ?? 0)
            info["downtime"] = .uint(downtime ?? 0)
            info["ram"] = ram.info
        default:
            var counters = ram
            counters.transferred = bytesWritten
            if inPostcopy {
                counters.precopyBytes = bytesAtPostcopy
                counters.postcopyBytes = bytesWritten &- bytesAtPostcopy
            } else {
                counters.precopyBytes = bytesWritten
            }
            info["setup-time"] = .uint(setupTime)
            info["total-time"] = .uint(elapsed(since: startTime))
            info["expected-downtime"] = .uint(expectedDowntime)
            info["ram"] = counters.info
        }
        return info
    }
}

extension OutgoingMigration {
    /// The VM is going away: the stream stops without events.
    func cancelQuietly() {
        if let timer { vm.cancelTimer(timer) }
        closeStream()
    }
}
