import QAPIRuntime
import QMPWire
import UVLoop

/// A VM's events: built once, serialized once, the same bytes queued to every
/// negotiated client.
///
/// Timestamps are taken when the event is emitted, so a throttled event that
/// goes out at the end of its window carries the time it happened, as in QEMU.
public final class EventBus {
    private let throttle: EventThrottle
    private let deliver: ([UInt8]) -> Void
    /// Events emitted, by name: a cheap counter for tests and `query-vms`.
    public private(set) var emittedCount = 0

    /// - Parameter deliver: queues one serialized event to every negotiated session.
    public init(scheduler: any Scheduler, deliver: @escaping ([UInt8]) -> Void) {
        self.throttle = EventThrottle(scheduler: scheduler)
        self.deliver = deliver
    }

    public func emit(_ name: String, data: JSONObject? = nil) {
        let time = WallClock.now()
        let bytes = QMPMessage.event(name, data: data, seconds: time.seconds, microseconds: time.microseconds)
        emittedCount += 1
        throttle.submit(event: name, data: data, bytes: bytes, send: deliver)
    }

    /// An event whose data object is already text in QEMU's form (a
    /// plugin's): its bytes go into the event as they are. The data is
    /// parsed only for an event whose throttle is keyed by a member.
    public func emit(_ name: String, encodedData data: CanonicalJSON) {
        let time = WallClock.now()
        let bytes = QMPMessage.event(name, encodedData: data, seconds: time.seconds, microseconds: time.microseconds)
        emittedCount += 1
        throttle.submit(event: name, data: throttle.isKeyed(name) ? data.value.objectValue : nil, bytes: bytes, send: deliver)
    }

    /// A core event with its data typed by the generated `QAPI.<Name>Event`
    /// (scripts/qapi-gen from core-schema.json): its name and members are
    /// the schema's, checked when this compiles. An event without data
    /// members goes out without `data`, as QEMU sends it.
    func emit<E: QAPIEvent>(_ event: E) {
        let data = event.qapiObject
        emit(E.qapiName, data: data.isEmpty ? nil : data)
    }

    public func shutdown() { throttle.cancelAll() }
}
