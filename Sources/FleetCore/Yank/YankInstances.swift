import QMPWire

/// A VM's yank instances (QEMU's util/yank.c): what registered itself, in
/// order, and what yanking it does.
///
/// A fresh VM has its QMP monitors' chardevs (`compat_monitor0`, as QEMU
/// 7.2 lists for `-machine pc -nodefaults -qmp ...`); yanking one shuts its
/// clients' connections down, as QEMU shuts the monitor's socket down (the
/// `yank` itself gets no reply then). Socket chardevs, NBD block nodes and
/// migration register here while they exist; each registers once.
public final class YankInstances {
    private var entries: [(instance: YankInstance, yank: () -> Void)] = []

    public init() {}

    /// Adds `instance`; false if it is registered already.
    @discardableResult
    public func register(_ instance: YankInstance, yank: @escaping () -> Void) -> Bool {
        guard !contains(instance) else { return false }
        entries.append((instance, yank))
        return true
    }

    public func unregister(_ instance: YankInstance) {
        entries.removeAll { $0.instance == instance }
    }

    public func contains(_ instance: YankInstance) -> Bool {
        entries.contains { $0.instance == instance }
    }

    /// `query-yank`: in registration order.
    public var list: [YankInstance] { entries.map(\.instance) }

    /// `yank`: every instance must exist, else nothing is yanked and the
    /// answer is QEMU's DeviceNotFound "Instance not found".
    public func yank(_ instances: [YankInstance]) -> Result<Void, QMPError> {
        guard instances.allSatisfy(contains) else { return .failure(QMPError(.deviceNotFound, "Instance not found")) }
        for instance in instances {
            // Looked up again: a yank may unregister others (a monitor's
            // clients closing).
            entries.first { $0.instance == instance }?.yank()
        }
        return .success(())
    }
}
