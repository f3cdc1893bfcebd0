import FleetCore
import QMPWire
import UVLoop

/// What the fleet's HTTP listener serves:
///
/// - `/metrics`: Prometheus text (`PrometheusExposition`);
/// - `/`: the fleet page (`Resources/fleet.html`, compiled in);
/// - `/events`: the page's live list of VMs, as server-sent events
///   (`event: fleet`, sent when it changes);
/// - `/events?vm=NAME`: one VM as it happens: `event: vm` (its summary),
///   `event: command` (each command answered, the history first),
///   `event: qmp` (each event sent to its clients), `event: gone`.
///
/// Everything else is 404. Loop-confined to the listener's loop.
public final class FleetSite {
    private let fleet: FleetShards
    private let loop: EventLoop
    private let limits: Limits
    /// The fleet list subscribers and the publisher that feeds them.
    private lazy var fleetFeed = FleetFeed(fleet: fleet, loop: loop, pageVMs: limits.pageVMs)
    private var nextWatchToken: UInt64 = 1

    public init(fleet: FleetShards, loop: EventLoop, limits: Limits) {
        self.fleet = fleet
        self.loop = loop
        self.limits = limits
    }

    /// Answers one request (the `HTTPServer`'s handler).
    public func handle(_ head: HTTPRequestHead, _ connection: HTTPConnection) {
        switch head.path {
        case "/metrics":
            serveMetrics(connection)
        case "/", "/index.html":
            connection.respond(HTTPResponse(status: 200, reason: "OK", contentType: "text/html; charset=utf-8",
                                            body: PackageResources.fleet_html))
        case "/events":
            if let name = head.query("vm") {
                watchVM(name, connection)
            } else {
                fleetFeed.subscribe(connection)
            }
        default:
            connection.respond(.notFound)
        }
    }

    private func serveMetrics(_ connection: HTTPConnection) {
        // The loops answer on their own time; one that does not (the fleet
        // is stopping) must not hold the client forever.
        let deadline = LoopTimer(loop: loop)
        deadline.start(afterMilliseconds: limits.httpRequestTimeoutMilliseconds) {
            deadline.close()
            connection.respond(.noAnswer)
        }
        fleet.collectMetrics(on: loop) { snapshot in
            deadline.close()
            connection.respond(HTTPResponse(status: 200, reason: "OK", contentType: PrometheusExposition.contentType,
                                            body: Array(PrometheusExposition.render(snapshot).utf8)))
        }
    }

    private func watchVM(_ name: String, _ connection: HTTPConnection) {
        let token = nextWatchToken
        nextWatchToken += 1
        let fleet = self.fleet
        fleet.watchVM(named: name, token: token, on: loop, { [weak connection] activity in
            guard let connection else { return }
            switch activity {
            case .command(let text): connection.send(EventStream.message(event: "command", data: text))
            case .event(let text): connection.send(EventStream.message(event: "qmp", data: text))
            case .ended:
                connection.send(EventStream.message(event: "gone", data: JSONValue.string(name).jsonText))
            }
        }, started: { [weak connection] answer in
            guard let connection, !connection.isClosed else {
                fleet.stopWatching(vm: name, token: token)
                return
            }
            guard let (summary, history) = answer else {
                connection.respond(.notFound)
                return
            }
            connection.onClose = { fleet.stopWatching(vm: name, token: token) }
            connection.startEventStream()
            connection.send(EventStream.message(event: "vm", data: summary.json.jsonText))
            for record in history { connection.send(EventStream.message(event: "command", data: record)) }
        })
    }
}
