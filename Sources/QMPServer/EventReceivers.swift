/// The negotiated sessions of one host (a VM, a proxied VM): the clients its
/// events go to, in the order they negotiated.
///
/// Why not the host's `[UInt64: Session]`: iterating a dictionary's values
/// retains and releases each session it yields, and an event to 1,000
/// clients spent about 5 % of the fleet's time there (docs/performance.md,
/// "One event to 1,000 clients (session 11)"). Here each session is an
/// unmanaged reference that the list itself keeps alive (one retain at
/// `add`, one release at `remove`), so a delivery touches no reference
/// count, and a session is never reached after its host let it go:
/// `remove` comes from the host's `sessionDidClose`, the one place a
/// session leaves its host.
///
/// A session may close while an event is being delivered (a client too far
/// behind is disconnected by `deliverEvent` itself): it is then only
/// blanked, kept alive until the delivery is over, and the list closes up
/// after. Loop-confined, as the host.
public final class EventReceivers {
    @exclusivity(unchecked) private var sessions: [Unmanaged<Session>?] = []
    /// Deliveries under way (one may start inside another if a session's
    /// closing emits an event).
    @exclusivity(unchecked) private var delivering = 0
    /// Sessions removed during a delivery: blanked in `sessions`, released
    /// once no delivery runs.
    @exclusivity(unchecked) private var removedWhileDelivering: [Unmanaged<Session>] = []

    public init() {}

    deinit {
        for case let session? in sessions { session.release() }
        for session in removedWhileDelivering { session.release() }
    }

    /// Sessions events go to.
    public var count: Int { sessions.count - removedWhileDelivering.count }

    /// `session` negotiated: it gets every event from now on, until `remove`.
    public func add(_ session: Session) {
        sessions.append(Unmanaged.passRetained(session))
    }

    /// `session` left its host: it gets no more events. Nothing happens if
    /// it was never added (it did not negotiate).
    public func remove(_ session: Session) {
        guard let index = sessions.firstIndex(where: { $0?.toOpaque() == Unmanaged.passUnretained(session).toOpaque() }),
              let entry = sessions[index] else { return }
        if delivering > 0 {
            sessions[index] = nil
            removedWhileDelivering.append(entry)
        } else {
            sessions.remove(at: index)
            entry.release()
        }
    }

    /// Every session gets nothing more (the host is ending).
    public func removeAll() {
        if delivering > 0 {
            for index in sessions.indices {
                if let entry = sessions[index] { removedWhileDelivering.append(entry) }
                sessions[index] = nil
            }
        } else {
            for case let session? in sessions { session.release() }
            sessions.removeAll()
        }
    }

    /// Queues `bytes` (one event, serialized once) to every session.
    public func deliver(_ bytes: [UInt8]) {
        delivering += 1
        // Sessions added meanwhile (none can be: negotiating is a command)
        // would wait for the next event.
        let end = sessions.count
        var index = 0
        while index < end {
            if let session = sessions[index] {
                session._withUnsafeGuaranteedRef { $0.deliverEvent(bytes) }
            }
            index += 1
        }
        delivering -= 1
        if delivering == 0 && !removedWhileDelivering.isEmpty { closeUp() }
    }

    private func closeUp() {
        sessions.removeAll { $0 == nil }
        for session in removedWhileDelivering { session.release() }
        removedWhileDelivering.removeAll()
    }
}
