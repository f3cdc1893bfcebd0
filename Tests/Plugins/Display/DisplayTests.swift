import Foundation
import QMPFleetTesting
import QMPWire
import Testing

/// screendump, send-key and input-send-event compared with QEMU 7.2
/// (-machine pc -device VGA,id=video0).
@Suite struct DisplayTests {
    let fleet: TestFleet
    let client: TestClient

    init(_ display: String = "{device: video0}", vms: String? = nil) throws {
        fleet = try TestFleet(yaml: vms ?? "vms: [{name: vm0, machine: pc, start-paused: true, plugins: {display: \(display)}}]")
        client = fleet.negotiatedClient(to: "vm0")
    }

    func ok(_ command: String, _ args: JSONObject? = nil) -> JSONValue? { client.result(command, args) }
    func error(_ command: String, _ args: JSONObject? = nil) -> (String?, String?) { client.errorPair(command, args) }
    func received(clear: Bool = false) -> [JSONValue] {
        fleet.guestAction(vm: "vm0", plugin: "display", action: "received-input", arguments: ["clear": .bool(clear)])?["return"]?["events"]?.arrayValue ?? []
    }

    static func path(_ name: String) -> String { "/tmp/display-test-\(getpid())-\(name)" }
    static func bytes(_ path: String) -> [UInt8] { (FileManager.default.contents(atPath: path).map { [UInt8]($0) }) ?? [] }

    @Test func screendumpWritesPPM() throws {
        let file = DisplayTests.path("a.ppm")
        defer { try? FileManager.default.removeItem(atPath: file) }
        #expect(ok("screendump", ["filename": .string(file)]) == [:])
        let data = DisplayTests.bytes(file)
        #expect(data.count == 921_615)
        #expect(Array(data.prefix(15)) == Array("P6\n640 480\n255\n".utf8))
    }

    @Test func pictureDependsOnNameAndRunState() throws {
        let vm = try DisplayTests(vms: "vms: [{name: vm0, plugins: {display: {}}}, {name: other, plugins: {display: {}}}]")
        let other = vm.fleet.negotiatedClient(to: "other")
        let a = DisplayTests.path("n1.ppm"), b = DisplayTests.path("n2.ppm"), c = DisplayTests.path("n3.ppm")
        defer { for f in [a, b, c] { try? FileManager.default.removeItem(atPath: f) } }
        #expect(vm.ok("screendump", ["filename": .string(a)]) == [:])
        #expect(other.call("screendump", ["filename": .string(b)])?["return"] == [:])
        #expect(vm.ok("stop") == [:])
        #expect(vm.ok("screendump", ["filename": .string(c)]) == [:])
        let (pa, pb, pc) = (DisplayTests.bytes(a), DisplayTests.bytes(b), DisplayTests.bytes(c))
        #expect(pa.count == pb.count && pa.count == pc.count)
        #expect(pa != pb)
        #expect(pa != pc)
    }

    @Test func screendumpPNGAndSize() throws {
        let vm = try DisplayTests("{width: 320, height: 200}")
        let file = DisplayTests.path("b.png")
        defer { try? FileManager.default.removeItem(atPath: file) }
        #expect(vm.ok("screendump", ["filename": .string(file), "format": "png"]) == [:])
        let data = DisplayTests.bytes(file)
        #expect(Array(data.prefix(8)) == [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
        #expect(Array(data[16..<24]) == [0, 0, 1, 64, 0, 0, 0, 200])
        #expect(data.count < 20_000)
        #expect(Array(data.suffix(8).prefix(4)) == Array("IEND".utf8))
    }

    @Test func screendumpErrorsAsQEMU() throws {
        let file = DisplayTests.path("c.ppm")
        defer { try? FileManager.default.removeItem(atPath: file) }
        #expect(error("screendump", ["filename": .string(file), "device": "nosuch"]) == ("DeviceNotFound", "Device 'nosuch' not found"))
        #expect(error("screendump", ["filename": .string(file), "head": 1]) == ("GenericError", "'head' must be specified together with 'device'"))
        #expect(error("screendump", ["filename": .string(file), "device": "video0", "head": 1]) == ("GenericError", "Device video0 (head 1) is not bound to a QemuConsole"))
        #expect(ok("screendump", ["filename": .string(file), "device": "video0", "head": 0]) == [:])
        #expect(error("screendump", ["filename": .string("/tmp/no-such-dir-\(getpid())/x.ppm")]) == ("GenericError", "failed to open file '/tmp/no-such-dir-\(getpid())/x.ppm': No such file or directory"))
        #expect(error("screendump", ["filename": .string(file), "format": "jpeg"]) == ("GenericError", "Parameter 'format' does not accept value 'jpeg'"))
        let none = try DisplayTests("{enabled: false}")
        #expect(none.error("screendump", ["filename": .string(file)]) == ("GenericError", "There is no console to take a screendump from"))
    }

    @Test func sendKeyReachesTheGuestPressedThenReleased() throws {
        let keys: JSONValue = [["type": "qcode", "data": "ctrl"], ["type": "qcode", "data": "alt"], ["type": "qcode", "data": "delete"]]
        #expect(ok("send-key", ["keys": keys]) == [:])
        fleet.advance(by: 100)
        let events = received()
        #expect(events.count == 6)
        #expect(events.prefix(3).map { $0["data"]?["down"] } == [true, true, true])
        #expect(events.map { $0["data"]?["key"]?["data"] } == ["ctrl", "alt", "delete", "delete", "alt", "ctrl"])
        #expect(error("send-key", ["keys": [["type": "qcode", "data": "nosuchkey"]]]) == ("GenericError", "Parameter 'data' does not accept value 'nosuchkey'"))
    }

    /// QEMU 7.2 takes hold-time's low 32 bits (`uint32_t delay_ms`):
    /// 2^63-1 and -1 hold each key for 2^32-1 ms, 2^32 is 0 (the default).
    @Test(arguments: [(Int64.max, UInt64(UInt32.max)), (Int64(-1), UInt64(UInt32.max)), (Int64.min, UInt64(10)),
                      (Int64(1) << 32, UInt64(10)), ((Int64(1) << 32) + 5, UInt64(5))] as [(Int64, UInt64)])
    func sendKeyHoldTimeExtremes(hold: Int64, delay: UInt64) throws {
        let keys: JSONValue = [["type": "qcode", "data": "a"], ["type": "qcode", "data": "b"]]
        #expect(ok("send-key", ["keys": keys, "hold-time": .int(hold)]) == [:])
        #expect(received().count == 1)
        fleet.advance(by: delay - 1)
        #expect(received().count == 1)
        fleet.advance(by: 1)
        #expect(received().count == 2)
        fleet.advance(by: 2 * delay)
        #expect(received().count == 4)
    }

    /// QEMU 7.2 (-vnc ...,password=on) answers {} to each: "+N" is time_t
    /// arithmetic there (it wraps), and strtoull saturates past 2^64-1.
    @Test(arguments: ["+9223372036854775807", "+99999999999999999999999", "18446744073709551615"])
    func expirePasswordExtremes(time: String) throws {
        let vm = try DisplayTests("{vnc: {password: true}}")
        #expect(vm.ok("expire_password", ["protocol": "vnc", "time": .string(time)]) == [:])
    }

    @Test func sendKeyHoldTime() throws {
        #expect(ok("send-key", ["keys": [["type": "qcode", "data": "a"]], "hold-time": 500]) == [:])
        #expect(received().count == 1)
        fleet.advance(by: 499)
        #expect(received().count == 1)
        fleet.advance(by: 1)
        #expect(received(clear: true).last?["data"]?["down"] == false)
        #expect(received().isEmpty)
    }

    @Test func inputSendEventAsQEMU() throws {
        let ctrl: JSONValue = [["type": "key", "data": ["down": true, "key": ["type": "qcode", "data": "ctrl"]]]]
        #expect(error("input-send-event", ["events": ctrl]) == ("GenericError", "VM not running"))
        #expect(error("input-send-event", ["device": "nosuch", "events": ctrl]) == ("DeviceNotFound", "Device 'nosuch' not found"))
        #expect(ok("cont") == [:])
        #expect(ok("input-send-event", ["events": ctrl]) == [:])
        #expect(ok("input-send-event", ["device": "video0", "events": [["type": "btn", "data": ["down": true, "button": "left"]]]]) == [:])
        #expect(error("input-send-event", ["device": "video0", "head": 2, "events": ctrl]) == ("GenericError", "Device video0 (head 2) is not bound to a QemuConsole"))
        #expect(error("input-send-event", ["events": [["type": "abs", "data": ["axis": "x", "value": 20000]]]]) == ("GenericError", "Input handler not found for event type abs"))
        #expect(error("input-send-event", ["events": [["type": "key", "data": ["down": true, "key": ["type": "qcode", "data": "nosuch"]]]]]) == ("GenericError", "Parameter 'data' does not accept value 'nosuch'"))
        #expect(received().map { $0["type"] } == ["key", "btn"])
    }

    @Test func tabletTakesAbsoluteEvents() throws {
        let vm = try DisplayTests("{tablet: true}")
        #expect(vm.ok("cont") == [:])
        #expect(vm.ok("input-send-event", ["events": [["type": "abs", "data": ["axis": "x", "value": 20000]], ["type": "abs", "data": ["axis": "y", "value": 400]]]]) == [:])
        #expect(vm.received().map { $0["data"]?["value"] } == [20000, 400])
    }

    @Test func configIsChecked() {
        #expect(throws: (any Error).self) { try DisplayTests("{width: 0}") }
        #expect(throws: (any Error).self) { try DisplayTests("{colour: red}") }
    }
}
