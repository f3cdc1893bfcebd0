import QMPWire
import Testing

/// Serial consoles from the config, the boot log and VSERPORT_CHANGE.
@Suite struct SerialConsoleTests {
    @Test func bootLogEndsInLoginWhenTheVMStarts() throws {
        let vm = try ChardevVM(chardev: "{serial: [{id: serial0, backend: ringbuf}]}", startPaused: true)
        #expect(vm.ok("ringbuf-read", ["device": "serial0", "size": 65536]) == "")
        _ = vm.ok("cont")
        let log = vm.ok("ringbuf-read", ["device": "serial0", "size": 65536])?.stringValue ?? ""
        #expect(log.hasSuffix("vm0 login: "))
        #expect(vm.error("chardev-remove", ["id": "serial0"]) == ("GenericError", "Chardev 'serial0' is busy"))
        #expect(vm.ok("query-chardev") == [["label": "serial0", "filename": "ringbuf", "frontend-open": true]])
        _ = vm.guest("console-write", ["text": "Welcome"])
        #expect(vm.ok("ringbuf-read", ["device": "serial0", "size": 100]) == "Welcome\r\n")
    }

    @Test func defaultSerialIsAPty() throws {
        let vm = try ChardevVM(chardev: "{}")
        let info = vm.ok("query-chardev")?.arrayValue?.first
        #expect(info?["label"] == "serial0")
        #expect(info?["filename"]?.stringValue?.hasPrefix("pty:/dev/pts/") == true)
    }

    @Test func vserportChange() throws {
        let vm = try ChardevVM()
        _ = vm.add("c0", "null")
        _ = vm.ok("device_add", ["driver": "virtio-serial-pci", "id": "vs0"])
        _ = vm.ok("device_add", ["driver": "virtserialport", "id": "port0", "chardev": "c0", "name": "org.qemu.guest_agent.0"])
        #expect(vm.ok("query-chardev")?.arrayValue?.first?["frontend-open"] == false)
        #expect(vm.guest("vserport-open", ["port": "port0", "open": true])?["return"] == .object([:]))
        let events = vm.client.takeEvents().filter { $0["event"] == "VSERPORT_CHANGE" }
        #expect(events.first?["data"] == ["id": "port0", "open": true])
        #expect(vm.ok("query-chardev")?.arrayValue?.first?["frontend-open"] == true)
    }

    @Test func badConfigIsRefused() {
        #expect(throws: (any Error).self) { try ChardevVM(chardev: "{serial: [{backend: socket}]}") }
        #expect(throws: (any Error).self) { try ChardevVM(chardev: "{bogus: 1}") }
    }
}
