import QMPFleetTesting
import QMPWire
import Testing

/// The balloon as QEMU 7.2 serves it, with a simulated guest driver that
/// moves `actual` towards the target and reports each step.
@Suite struct BalloonTests {
    let fleet: TestFleet

    init() throws {
        fleet = try TestFleet(yaml: """
            vms:
              - {name: plain, memory: {size: 1G}, plugins: {balloon: {}}}
              - {name: cold, memory: {size: 1G}, plugins: {balloon: {device: balloon0, rate-mib-per-second: 1280}}}
              - {name: idle, memory: {size: 512M}, plugins: {balloon: {device: balloon0, guest-driver: false}}}
            """)
    }

    private func client(_ name: String) -> TestClient {
        let client = fleet.negotiatedClient(to: name)
        _ = client.drain()
        return client
    }

    @Test func noDeviceUntilOneIsPlugged() {
        let c = client("plain")
        let notActive: JSONValue = ["class": "DeviceNotActive", "desc": "No balloon device has been activated"]
        #expect(c.call("query-balloon")?["error"] == notActive)
        #expect(c.call("balloon", ["value": 1])?["error"] == notActive)
        #expect(c.call("device_add", ["driver": "virtio-balloon-pci", "id": "bal0"])?["return"] == .object([:]))
        #expect(c.call("query-balloon")?["return"] == ["actual": 1_073_741_824])
        #expect(c.call("device_add", ["driver": "virtio-balloon-pci", "id": "bal1"])?["error"]?["desc"]
            == "Only one balloon device is supported")
        #expect(c.call("balloon", ["value": 0])?["error"]?["desc"] == "Parameter 'target' expects a size")
        #expect(c.call("device_del", ["id": "bal0"])?["return"] == .object([:]))
        fleet.advance(by: 50)
        #expect(c.takeEvents().map { $0["data"] } == [["path": "/machine/peripheral/bal0/virtio-backend"],
                                                       ["device": "bal0", "path": "/machine/peripheral/bal0"]])
        #expect(c.call("query-balloon")?["error"] == notActive)
    }

    @Test func theGuestInflatesStepByStepAndReportsEachStep() {
        let c = client("cold")
        #expect(c.call("balloon", ["value": 536_870_912])?["return"] == .object([:]))
        #expect(c.call("query-balloon")?["return"] == ["actual": 1_073_741_824])
        // 1280 MiB/s is 128 MiB per 100 ms step: 512 MiB takes four steps.
        fleet.advance(by: 100)
        #expect(c.call("query-balloon")?["return"] == ["actual": 939_524_096])
        fleet.advance(by: 300)
        #expect(c.call("query-balloon")?["return"] == ["actual": 536_870_912])
        fleet.advance(by: 2000)
        // Throttled as QEMU throttles BALLOON_CHANGE: the first at once, the last one a second later.
        let actuals = c.takeEvents().filter { $0["event"] == "BALLOON_CHANGE" }.map { $0["data"]?["actual"] }
        #expect(actuals.first == 939_524_096)
        #expect(actuals.last == 536_870_912)
        // A target above RAM is RAM.
        _ = c.call("balloon", ["value": 1_099_511_627_776])
        fleet.advance(by: 1000)
        #expect(c.call("query-balloon")?["return"] == ["actual": 1_073_741_824])
    }

    @Test func aPausedGuestDoesNotMoveTheBalloon() {
        let c = client("cold")
        _ = c.call("stop")
        _ = c.call("balloon", ["value": 536_870_912])
        fleet.advance(by: 1000)
        #expect(c.call("query-balloon")?["return"] == ["actual": 1_073_741_824])
        _ = c.call("cont")
        fleet.advance(by: 1000)
        #expect(c.call("query-balloon")?["return"] == ["actual": 536_870_912])
    }

    @Test func withoutAGuestDriverActualStaysAsOnAnIdleQEMU() {
        let c = client("idle")
        #expect(c.call("balloon", ["value": 268_435_456])?["return"] == .object([:]))
        fleet.advance(by: 5000)
        #expect(c.call("query-balloon")?["return"] == ["actual": 536_870_912])
        #expect(c.takeEvents().isEmpty)
    }

    /// `query-balloon` is answered from kept text while the balloon stays
    /// (the plugin's text, the host's kept reply, the session's cached
    /// line), and every change is in the very next answer: pipelined
    /// requests between two guest steps get the same line, byte for byte,
    /// and the first request after a step, an unplug or a plug, the new one.
    @Test func aChangedBalloonIsInTheNextAnswerNeverAKeptOne() {
        let c = client("cold")
        func answers(_ count: Int) -> [String] {
            let before = c.rawOutput.count
            c.write(String(repeating: #"{"execute": "query-balloon"}"#, count: count))
            _ = c.drain()
            return String(decoding: c.rawOutput[before...], as: UTF8.self).components(separatedBy: "\r\n").filter { !$0.isEmpty }
        }
        func line(_ actual: Int64) -> String { "{\"return\": {\"actual\": \(actual)}}" }
        #expect(answers(3) == Array(repeating: line(1_073_741_824), count: 3))
        #expect(c.call("balloon", ["value": 536_870_912])?["return"] == .object([:]))
        // 1280 MiB/s: 128 MiB per 100 ms step.
        for actual: Int64 in [939_524_096, 805_306_368, 671_088_640, 536_870_912] {
            fleet.advance(by: 100)
            #expect(answers(2) == [line(actual), line(actual)])
        }
        #expect(c.call("device_del", ["id": "balloon0"])?["return"] == .object([:]))
        fleet.advance(by: 50)
        #expect(answers(1) == [#"{"error": {"class": "DeviceNotActive", "desc": "No balloon device has been activated"}}"#])
        #expect(c.call("device_add", ["driver": "virtio-balloon-pci", "id": "bal1"])?["return"] == .object([:]))
        #expect(answers(2) == [line(1_073_741_824), line(1_073_741_824)])
    }

    /// The config's rate may be any positive int64: the step saturates
    /// (the guest reaches the target at once) instead of trapping.
    @Test func rateAtInt64MaxSettlesInOneStep() throws {
        let fleet = try TestFleet(yaml: """
            vms: [{name: fast, memory: {size: 1G}, plugins: {balloon: {device: balloon0, rate-mib-per-second: 9223372036854775807}}}]
            """)
        let c = fleet.negotiatedClient(to: "fast")
        _ = c.drain()
        #expect(c.call("balloon", ["value": 536_870_912])?["return"] == .object([:]))
        fleet.advance(by: 100)
        #expect(c.call("query-balloon")?["return"] == ["actual": 536_870_912])
    }
}
