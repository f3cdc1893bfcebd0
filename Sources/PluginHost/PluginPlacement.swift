#if canImport(Glibc)
import Glibc
#endif

/// What every instance of one plugin on one loop thread has in common: the
/// library, the thread whose host calls its instances take, and where that
/// loop counts the plugin's reply times.
///
/// Kept once per loop and plugin (`PluginHostVM.pluginPlacement(for:)`;
/// FleetCore's `LoopMetrics` keeps them) rather than in each instance:
/// held by every instance they were 32 of its bytes, enough to move it from
/// malloc's 80-byte chunks to its 112-byte ones, and a VM of the bench's
/// 12 plugins has 12 instances (384 bytes of each of 10,000 VMs).
///
/// Immutable; read from another thread only under `PluginHandles`' lock,
/// to refuse a call (`thread`, the library's name).
package final class PluginPlacement {
    package let library: PluginLibrary
    /// The thread it was made on: its instances are made there too, and
    /// only that thread's host calls are taken.
    let thread = pthread_self()
    /// Where the loop counts the plugin's reply times.
    let replyTimes: any PluginReplyTimer

    package init(library: PluginLibrary, replyTimes: any PluginReplyTimer) {
        self.library = library
        self.replyTimes = replyTimes
    }

    /// Whether the calling thread is the one it was made on: an instance
    /// made on another thread (a test that moved to another thread) needs a
    /// placement of its own.
    package var isOnCurrentThread: Bool { pthread_equal(thread, pthread_self()) != 0 }
}
