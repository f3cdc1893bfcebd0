#if canImport(Glibc)
import Glibc
#endif
import QMPPluginKit
import QMPWire

/// The target side of one migration (QEMU 7.2's MigrationIncomingState):
/// `migrate-incoming` listens (MIGRATION setup, sent whatever the `events`
/// capability says, as QEMU sends it), the first connection is taken and
/// the listener closed → active → RAM and the device state are read →
/// at the end mark the device state is loaded into the VM's plugins and
/// the VM takes the source's run state (a source that ran makes it run
/// when autostart is on, else pause) → completed. A stream that breaks
/// fails the migration and ends the VM, as an incoming QEMU exits.
final class IncomingMigration {
    unowned let plugin: MigrationPlugin
    var vm: PluginVM { plugin.vm }
    private(set) var status = MigrationStatus.none
    /// Where it listens (query-migrate's socket-address).
    private(set) var addresses: [MigrationAddress] = []
    private var listenFD: Int32 = -1
    private var listenWatch: FDWatchID?
    private var channel: MigrationChannel?
    private var decoder: MigrationStream.Decoder
    private var inPostcopy = false
    private var deviceState: JSONValue?
    private var sourceRunState = "running"
    /// RAM bytes received, in order.
    private(set) var receivedRAM: UInt64 = 0
    private let ramSize: UInt64

    init(plugin: MigrationPlugin, ramSize: UInt64) {
        self.plugin = plugin
        self.ramSize = ramSize
        decoder = MigrationStream.Decoder(maximumRecordBytes: plugin.limits.maximumRecordBytes)
    }

    /// Starts listening on `address` (an `fd:` is the stream itself).
    func listen(_ address: MigrationAddress) -> Result<Void, QMPError> {
        if case .fd(let name) = address {
            switch vm.openFile("fd:\(name)", flags: O_RDWR) {
            case .failure(let error): return .failure(error)
            case .success(let fd):
                addresses = []
                vm.startTimer(afterMilliseconds: 0) { [weak self] in self?.accepted(fd) }
                return .success(())
            }
        }
        switch MigrationSocket.listen(address) {
        case .failure(let error): return .failure(error)
        case .success(let fd):
            guard let watch = vm.watch(fd: fd, events: .readable, { [weak self] _ in self?.acceptReady() }) else {
                close(fd)
                return .failure(.generic("cannot watch the migration socket"))
            }
            listenFD = fd
            listenWatch = watch
            addresses = [address]
            return .success(())
        }
    }

    private func acceptReady() {
        guard listenFD >= 0, let fd = MigrationSocket.accept(listenFD) else { return }
        closeListener()
        accepted(fd)
    }

    private func closeListener() {
        if let listenWatch { vm.unwatch(listenWatch) }
        listenWatch = nil
        if listenFD >= 0 { close(listenFD) }
        listenFD = -1
        for case .unix(let path) in addresses {
            var st = stat()
            if lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFSOCK { unlink(path) }
        }
    }

    private func accepted(_ fd: Int32) {
        guard let channel = MigrationChannel(vm: vm, fd: fd, outboxLimit: plugin.limits.outboxBytes) else {
            fail("cannot watch the migration socket")
            return
        }
        self.channel = channel
        decoder = MigrationStream.Decoder(maximumRecordBytes: plugin.limits.maximumRecordBytes)
        channel.onData = { [weak self] bytes in self?.received(bytes) }
        channel.onClosed = { [weak self] reason in self?.streamBroke(reason) }
        if status == .postcopyPaused {
            // Recovery: tell the source how much RAM arrived; it goes on from there.
            setStatus(.postcopyRecover)
            channel.send(MigrationStream.bigEndian(receivedRAM, bytes: 8))
            setStatus(.postcopyActive)
            return
        }
        setStatus(.active)
    }

    private func received(_ bytes: UnsafeRawBufferPointer) {
        let records: [MigrationStream.Record]
        do {
            records = try decoder.feed(bytes)
        } catch {
            fail("load of migration failed: \(error)")
            return
        }
        for record in records {
            guard status.isRunning else { return }
            handle(record)
        }
    }

    private func handle(_ record: MigrationStream.Record) {
        switch record {
        case .ram(let offset, let bytes):
            guard offset == receivedRAM, UInt64(bytes) <= ramSize - min(ramSize, receivedRAM) else {
                fail("load of migration failed: RAM at \(offset) out of order or past the end")
                return
            }
            receivedRAM += UInt64(bytes)
        case .sync:
            break
        case .postcopy:
            inPostcopy = true
            setStatus(.postcopyActive)
        case .device(let json):
            guard let payload = try? JSONValue(parsing: String(decoding: json, as: UTF8.self)),
                  let state = payload["device-state"] else {
                fail("load of migration failed: device section is not JSON")
                return
            }
            sourceRunState = payload["run-state"]?.stringValue ?? "running"
            deviceState = state
            if case .failure(let error) = vm.loadDeviceState(state) {
                fail(error.desc)
                return
            }
            if inPostcopy {
                // loadvm_postcopy_handle_run: the target runs while RAM follows.
                vm.setRunState(vm.autostart ? "running" : "paused")
            }
        case .end:
            complete()
        }
    }

    private func complete() {
        guard deviceState != nil else {
            fail("load of migration failed: no device state")
            return
        }
        if !inPostcopy {
            // process_incoming_migration_bh and the source's global state.
            if sourceRunState == "running" {
                vm.setRunState(vm.autostart ? "running" : "paused")
            } else {
                vm.setRunState(sourceRunState)
            }
        }
        channel?.close()
        channel = nil
        addresses = []
        setStatus(.completed)
    }

    private func streamBroke(_ reason: String?) {
        channel = nil
        guard status.isRunning else { return }
        if inPostcopy && status == .postcopyActive {
            setStatus(.postcopyPaused)
            return
        }
        fail("load of migration failed: \(reason ?? "Input/output error")")
    }

    /// The stream failed: MIGRATION failed, and the VM ends as QEMU exits.
    func fail(_ reason: String) {
        guard status != .failed, status != .completed else { return }
        vm.log(.error, reason)
        closeListener()
        channel?.close()
        channel = nil
        setStatus(.failed)
        vm.exit()
    }

    /// `migrate-pause` on the target in postcopy-active.
    func pause() -> Bool {
        guard status == .postcopyActive else { return false }
        channel?.close()
        channel = nil
        setStatus(.postcopyPaused)
        return true
    }

    /// `migrate-recover`: listens again for the source's `migrate` with `resume`.
    func recover(_ address: MigrationAddress) -> Result<Void, QMPError> {
        guard status == .postcopyPaused, listenFD < 0 else {
            return .failure(.generic(status == .postcopyPaused ? "Migrate recovery is triggered already"
                                                               : "Migrate recover can only be run when postcopy is paused."))
        }
        return listen(address)
    }

    private func setStatus(_ new: MigrationStatus) {
        status = new
        if plugin.capabilities.isEnabled("events") { vm.emit("MIGRATION", ["status": .string(new.rawValue)]) }
    }

    /// fill_destination_migration_info.
    var info: JSONObject {
        var info = JSONObject()
        if !addresses.isEmpty { info["socket-address"] = .array(addresses.map(\.socketAddress)) }
        if status != .none { info["status"] = .string(status.rawValue) }
        return info
    }

    func shutDown() {
        closeListener()
        channel?.close()
        channel = nil
    }
}
