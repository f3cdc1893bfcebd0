/// Work the simulated guest does only while it runs: an ACPI eject answered,
/// a hot-plugged CPU or DIMM acknowledged. A real guest does nothing while
/// the VM is paused or in prelaunch, so what a plugin's guest would do then
/// waits here until the VM next runs.
///
/// ```swift
/// let guest = GuestWorkQueue()
/// guest.whenRunning(on: vm) { answerEject(dimm) }   // now if running, else later
/// // in the plugin's runStateChanged(to:):
/// guest.runStateChanged(to: state)
/// ```
///
/// A class, not a struct: work that runs may queue more work.
public final class GuestWorkQueue {
    private var pending: [() -> Void] = []

    public init() {}

    /// Runs `work` now if `vm` is running, else when it next runs.
    public func whenRunning(on vm: PluginVM, _ work: @escaping () -> Void) {
        if vm.isRunning { work() } else { pending.append(work) }
    }

    /// Forgets what waited: the device state it was for was replaced (an
    /// incoming migration brought the source's).
    public func discardAll() { pending.removeAll() }

    /// Runs what waited, in order, when `state` is "running".
    public func runStateChanged(to state: String) {
        guard state == "running", !pending.isEmpty else { return }
        let work = pending
        pending.removeAll()
        work.forEach { $0() }
    }
}
