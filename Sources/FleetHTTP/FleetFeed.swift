import FleetCore
import QMPWire
import UVLoop

/// The fleet page's live list of VMs: while anyone subscribes, the fleet
/// is read every `interval` ms and the list is sent to every subscriber
/// when it changed (and to a new subscriber at once).
///
/// Reading the fleet is a hop to each loop and back; with nobody
/// subscribed nothing is read at all. The list is cut to `pageVMs` VMs
/// (creation order) so a 10,000-VM fleet does not stream megabytes a second.
/// Loop-confined to the listener's loop.
final class FleetFeed {
    /// How often the fleet is read while someone watches.
    static let intervalMilliseconds: UInt64 = 250

    private let fleet: FleetShards
    private let loop: EventLoop
    private let pageVMs: Int
    private var subscribers: [ObjectIdentifier: HTTPConnection] = [:]
    private var timer: LoopTimer?
    private var lastMessage: [UInt8] = []
    private var reading = false

    init(fleet: FleetShards, loop: EventLoop, pageVMs: Int) {
        self.fleet = fleet
        self.loop = loop
        self.pageVMs = pageVMs
    }

    func subscribe(_ connection: HTTPConnection) {
        subscribers[ObjectIdentifier(connection)] = connection
        connection.onClose = { [weak self, weak connection] in
            guard let self, let connection else { return }
            subscribers[ObjectIdentifier(connection)] = nil
            if subscribers.isEmpty { stop() }
        }
        connection.startEventStream()
        if !lastMessage.isEmpty { connection.send(lastMessage) }
        if timer == nil {
            let timer = LoopTimer(loop: loop)
            self.timer = timer
            timer.start(afterMilliseconds: 0, repeatEvery: Self.intervalMilliseconds) { [weak self] in self?.read() }
        }
    }

    private func stop() {
        timer?.close()
        timer = nil
        lastMessage = []
    }

    private func read() {
        guard !reading else { return }
        reading = true
        fleet.collectVMs(on: loop, limit: pageVMs) { [weak self] vms, total in
            guard let self else { return }
            reading = false
            let message = EventStream.message(event: "fleet", data: Self.json(vms, total: total))
            guard message != lastMessage else { return }
            lastMessage = message
            for subscriber in Array(subscribers.values) { subscriber.send(message) }
        }
    }

    /// `{"total": N, "vms": [...]}`.
    static func json(_ vms: [VMSummary], total: Int) -> String {
        var object = JSONObject()
        object["total"] = .int(Int64(total))
        object["vms"] = .array(vms.map(\.json))
        return JSONValue.object(object).jsonText
    }
}
