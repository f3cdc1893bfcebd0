import Logging
import PluginHost
import QMPWire
import UVLoop
#if canImport(Glibc)
import Glibc
#endif

/// The VM as its plugin instances see it (`PluginHostVM`, PluginHost's list
/// of what the host function table may do to a VM). The members the VM
/// already has under these names serve as they are; the rest translate a
/// plugin's C-side terms (run-state names) into the VM's own.
extension VM: PluginHostVM {
    package var loop: EventLoop? { owner.loop }
    package var pluginReplyTimeoutMilliseconds: UInt64 { limits.pluginReplyTimeoutMilliseconds }
    package var fdStallMilliseconds: UInt64 { limits.fdStallMilliseconds }

    package func pluginPlacement(for library: PluginLibrary) -> PluginPlacement {
        metrics.pluginPlacement(for: library)
    }

    package var runStateCString: UnsafePointer<CChar>? { RunStateNames.cString(for: runState) }

    package func pluginStop(reason: String?) {
        stop(to: reason.flatMap(RunState.init(rawValue:)) ?? .paused)
    }

    package func pluginSetRunState(named name: String) -> Bool {
        guard let state = RunState(rawValue: name) else { return false }
        setMigrationRunState(state)
        return true
    }

    /// Later, on the loop: the plugin is inside a call of its own now.
    package func pluginRequestedExit() {
        _ = scheduler.schedule(afterMilliseconds: 0) { [weak self] in
            guard let self, !self.isDestroyed else { return }
            self.owner.destroyVM(self, afterFlush: true)
        }
    }

    package func emitPluginEvent(_ name: String, data: JSONObject?) {
        events.emit(name, data: data)
    }

    package func emitPluginEvent(_ name: String, encodedData: CanonicalJSON) {
        events.emit(name, encodedData: encodedData)
    }
}
