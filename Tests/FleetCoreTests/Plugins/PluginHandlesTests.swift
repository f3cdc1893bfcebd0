@testable import FleetCore
@testable import PluginHost
import Foundation
import QMPFleetTesting
import QMPPluginABI
import Testing

/// The host API refuses calls a plugin makes off its VM's loop thread, and
/// calls through the handle of a VM that has ended (no use-after-free).
@Suite(.serialized)
struct PluginHandlesTests {
    static func fleetWithPlugin() throws -> (TestFleet, PluginInstance) {
        let fleet = try TestFleet(yaml: "vms: [{name: vm0, plugins: {dump: {}}}]")
        let instance = try #require(fleet.vm("vm0")?.plugins.first)
        return (fleet, instance)
    }

    /// Runs `body` on a thread of its own and waits for it.
    static func onAnotherThread<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
        let result = ResultBox<T>()
        let thread = Thread {
            result.value = body()
            result.done.signal()
        }
        thread.start()
        result.done.wait()
        return result.value!
    }

    /// Written by the thread before it signals, read after the wait.
    final class ResultBox<T>: @unchecked Sendable {
        var value: T?
        let done = DispatchSemaphore(value: 0)
    }

    struct Calls: Sendable, Equatable {
        var name: Bool, timer: UInt64, watch: UInt64, work: Int32, transfer: Int32, open: Int32, openError: String
    }

    /// What each refusable call gives for `handle` on the calling thread.
    static func calls(_ raw: UInt) -> Calls {
        let handle = OpaquePointer(bitPattern: raw)
        let api = HostAPI.table.pointee
        var error = [CChar](repeating: 0, count: 256)
        let fd = api.open_file(handle, "/tmp/never-created-by-plugin-handles-tests", O_WRONLY | O_CREAT, 0o600, &error, error.count)
        api.emit_event(handle, "DUMP_COMPLETED", nil, 0)
        api.vm_stop(handle, "paused")
        return Calls(
            name: api.vm_name(handle) != nil,
            timer: api.timer_start(handle, 10, 0, { _, _ in }, nil),
            watch: api.fd_watch(handle, 0, QMP_FD_READABLE, { _, _, _, _ in }, nil),
            work: api.work_queue(handle, { _ in }, { _, _ in }, nil),
            transfer: api.fd_transfer(handle, 1, QMP_TRANSFER_WRITE, nil, 0, { _, _, _ in }, nil),
            open: fd,
            openError: String(cString: error))
    }

    @Test func callsFromAnotherThreadAreRefused() throws {
        let (fleet, instance) = try Self.fleetWithPlugin()
        let raw = UInt(bitPattern: instance.handle)
        let refused = Self.onAnotherThread { Self.calls(raw) }
        #expect(refused == Calls(name: false, timer: 0, watch: 0, work: -1, transfer: -1, open: -1,
                                 openError: "open_file was refused: called from a thread other than its VM's loop thread, or for a VM that has ended"))
        #expect(access("/tmp/never-created-by-plugin-handles-tests", F_OK) != 0)
        // Nothing of it reached the VM: still running, no timer.
        #expect(fleet.vm("vm0")?.runState == .running)
        #expect(instance.activeTimerCount == 0)
        // On the VM's own thread the same handle works.
        #expect(HostAPI.table.pointee.vm_name(instance.handle) != nil)
    }

    @Test func aHandleOfAnEndedVMIsRefused() throws {
        let (fleet, instance) = try Self.fleetWithPlugin()
        let raw = UInt(bitPattern: instance.handle)
        let vm = try #require(fleet.vm("vm0"))
        fleet.router.destroyVM(vm)
        #expect(PluginHandles.instance(for: OpaquePointer(bitPattern: raw)) == nil)
        let refused = Self.calls(raw)
        #expect(refused.name == false && refused.timer == 0 && refused.work == -1 && refused.transfer == -1 && refused.open == -1)
        // A handle never given out finds nothing either.
        #expect(PluginHandles.instance(for: OpaquePointer(bitPattern: UInt.max)) == nil)
    }

    /// A negative `mode` (an `int` in the ABI, a `mode_t` to open(2)) is
    /// the bits C would pass, not a trap that ends every VM of the process.
    @Test func aNegativeModeDoesNotTrap() throws {
        let (fleet, instance) = try Self.fleetWithPlugin()
        defer { withExtendedLifetime(fleet) {} }
        let api = HostAPI.table.pointee
        var error = [CChar](repeating: 0, count: 256)
        let path = "/tmp/qmpfleet-negative-mode-\(getpid())"
        defer { unlink(path) }
        let fd = api.open_file(instance.handle, path, O_WRONLY | O_CREAT, -1, &error, error.count)
        if fd >= 0 { close(fd) }
        let rc = api.open_file_async(instance.handle, 0, path, O_WRONLY | O_CREAT, -1,
                                     { _, fd, _, _ in if fd >= 0 { close(fd) } }, nil)
        #expect(rc == 0)
    }

    /// A stripe's slots: found by number, emptied once, and a page whose
    /// slots were all given out and released is given back.
    @Test func handleSlotsGiveBackAPageOnceAllItsHandlesEnded() throws {
        let (fleet, instance) = try Self.fleetWithPlugin()
        _ = fleet
        var slots = HandleSlots()
        let size = HandleSlots.pageSize
        for slot in 0..<size + 1 { slots.insert(instance, at: slot) }
        #expect(slots.count == Int(size) + 1 && slots.pageCount == 2)
        #expect(slots[5] === instance && slots[size] === instance)
        // Never given out: nothing, however large the number.
        #expect(slots[size + 1] == nil && slots[.max] == nil)
        slots.remove(at: 5)
        slots.remove(at: 5)
        #expect(slots[5] == nil && slots.count == Int(size))
        for slot in 0..<size where slot != 5 { slots.remove(at: slot) }
        // The first page is all used and all released: gone. The second
        // still has slots to give out, and one live.
        #expect(slots.count == 1 && slots.pageCount == 1)
        #expect(slots[0] == nil && slots[size] === instance)
        slots.remove(at: size)
        #expect(slots.count == 0 && slots.pageCount == 1)
    }
}
