import Logging
import QMPWire
import UVLoop
#if canImport(Glibc)
import Glibc
#endif

/// What the plugin host asks of the VM a plugin instance belongs to, and no
/// more: the host function table (`HostAPI`) and `PluginInstance` reach the
/// VM only through this list, so the plugin side does not depend on the
/// fleet (FleetCore's `VM` implements it; FleetCore imports this module,
/// never the other way). Each member is one thing a plugin may do to its
/// VM through the C ABI, or what its instance needs to do it on the loop.
///
/// Loop-confined: every member is used on the VM's loop thread.
package protocol PluginHostVM: AnyObject {
    /// The VM's name as a NUL-terminated C string, kept as long as the VM
    /// (`vm_name` hands the plugin a pointer into it).
    var nameCString: ContiguousArray<CChar> { get }
    /// The VM's name (load errors name it).
    var name: String { get }
    /// The VM's logger; an instance's adds the plugin's name.
    var logger: Logger { get }
    /// The VM's loop; nil in-process (QMPFleetTesting), where work is done in place.
    var loop: EventLoop? { get }
    var scheduler: any Scheduler { get }
    /// The VM's share of libuv's pool (nil without a loop).
    var poolShare: PoolShare? { get }
    /// `limits.plugin-reply-timeout-ms`: how long a request waits for its answer.
    var pluginReplyTimeoutMilliseconds: UInt64 { get }
    /// `limits.fd-stall-ms`: how long an `fd_transfer` may wait on its peer.
    var fdStallMilliseconds: UInt64 { get }
    /// `library`'s placement on the VM's loop (`PluginPlacement`: its
    /// thread, where its reply times are counted), one per loop and plugin.
    func pluginPlacement(for library: PluginLibrary) -> PluginPlacement
    /// The run state's name as a C string that never dangles (`vm_run_state`).
    var runStateCString: UnsafePointer<CChar>? { get }
    /// The machine description as NUL-terminated JSON, kept as long as the
    /// VM once asked for (`vm_machine_json`).
    var machineJSONText: ContiguousArray<CChar> { get }
    /// The same with an empty `vcpu-thread-ids`, NUL-terminated: shared by
    /// the VMs of its kind of machine, kept at least as long as the VM
    /// (`vm_machine_json_shared`).
    var sharedMachineJSONText: ContiguousArray<CChar> { get }
    /// How many vCPUs the VM may have (`-smp maxcpus`): the ids
    /// `vm_vcpu_thread_ids` hands out.
    var possibleVCPUCount: Int { get }
    /// The host thread id of vCPU `index` (below `possibleVCPUCount`).
    func vcpuThreadID(_ index: Int) -> Int
    /// Whether the VM starts its guest by itself (`vm_autostart`).
    var autostart: Bool { get }
    /// `vm_stop`: stops the guest into the named state (`paused` when the
    /// name is missing or not a run state).
    func pluginStop(reason: String?)
    /// `vm_set_run_state`: a run-state change made by migration; false for
    /// a name that is not a run state.
    func pluginSetRunState(named name: String) -> Bool
    /// `vm_exit`: ends the VM after its clients have their replies.
    func pluginRequestedExit()
    /// `device_deleted`: the guest released a device.
    func deviceReleased(idOrPath: String)
    /// `device_realized`: a device the plugin's config created.
    func realizeConfiguredDevice(driver name: String, id: String, properties: JSONObject, owner: PluginLibrary) -> Result<Void, QMPError>
    /// `open_file`: a client-named file, now, on the loop thread.
    func openFile(_ path: String, flags: Int32, mode: mode_t) -> Result<Int32, QMPError>
    /// `open_file_async`: the same without blocking the loop.
    func openFile(_ path: String, flags: Int32, mode: mode_t, then completion: @escaping (Result<Int32, QMPError>) -> Void)
    /// `work_queue`: `work` on the pool within the VM's share, then `completion` on the loop.
    func offload(_ work: @escaping @Sendable () -> Void, then completion: @escaping () -> Void)
    /// `vm_save_device_state`: every plugin's and the host's device state.
    func saveDeviceState() -> Result<JSONValue, QMPError>
    /// `vm_load_device_state`: what `saveDeviceState` gave on the source.
    func loadDeviceState(_ saved: JSONValue) -> Result<Void, QMPError>
    /// A plugin's event (already checked against its schema) to every client.
    func emitPluginEvent(_ name: String, data: JSONObject?)
    /// The same, with data already in QEMU's form.
    func emitPluginEvent(_ name: String, encodedData: CanonicalJSON)
}
