import QMPWire

/// What the host asks of a plugin instance after `vm_create` made it (its
/// run state, a reset, its end, its migration state), bound to the
/// library's one plugin type when the descriptor is made.
///
/// Every instance the host passes back is the library's own `P`, made by
/// its `vm_create`, so each call reaches it with `unsafeDowncast` rather
/// than `as? any QMPPlugin`: that existential cast asked the Swift runtime
/// for the class's conformance on every call, per VM per plugin (12,000
/// conformance look-ups to end 1,000 VMs of 12 plugins). Whether the type
/// is a `MigratablePlugin` is asked once here, not per call.
struct InstanceCalls {
    let destroy: (AnyObject) -> Void
    let runStateChanged: (AnyObject, String) -> Void
    let reset: (AnyObject) -> Void
    /// Nil for a plugin that migrates nothing of its own.
    let migration: Migration?

    struct Migration {
        let saveState: (AnyObject) -> JSONValue
        let loadState: (AnyObject, JSONValue) throws(PluginError) -> Void
    }

    init<P: QMPPlugin>(_ type: P.Type) {
        destroy = { unsafeDowncast($0, to: P.self).destroy() }
        runStateChanged = { unsafeDowncast($0, to: P.self).runStateChanged(to: $1) }
        reset = { unsafeDowncast($0, to: P.self).reset() }
        migration = (type as? any MigratablePlugin.Type).map { Self.migration(of: $0) }
    }

    private static func migration<M: MigratablePlugin>(of type: M.Type) -> Migration {
        Migration(saveState: { unsafeDowncast($0, to: M.self).saveState() },
                  loadState: { instance, state throws(PluginError) in try unsafeDowncast(instance, to: M.self).loadState(state) })
    }
}
