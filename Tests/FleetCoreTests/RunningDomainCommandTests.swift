import FleetCore
import QMPFleetTesting
import QMPWire
import Testing

/// Commands libvirt sends to a running domain that the core serves:
/// qom-set, the balloon, display passwords and query-mice, with QEMU 7.2's
/// replies on a pc machine.
struct RunningDomainCommandTests {
    let fleet: TestFleet
    let client: TestClient

    init() throws {
        fleet = try TestFleet(yaml: """
            vms:
              - {name: vm0, plugins: {memory: {}}}
              - {name: tab, plugins: {display: {tablet: true}}}
              - {name: bare, machine: none}
            """)
        client = fleet.connect(to: "vm0")
        client.negotiate()
        _ = client.drain()
    }

    @Test func qomSetChangesAUserObjectThatQomGetReads() {
        #expect(client.call("object-add", ["qom-type": "memory-backend-ram", "id": "m0", "size": 67108864])?["return"] == .object([:]))
        #expect(client.call("qom-set", ["path": "/objects/m0", "property": "merge", "value": false])?["return"] == .object([:]))
        #expect(client.call("qom-get", ["path": "/objects/m0", "property": "merge"])?["return"] == false)
        #expect(client.call("qom-set", ["path": "/objects/m0", "property": "merge", "value": 1])?["error"]?["desc"]
            == "Invalid parameter type for 'merge', expected: boolean")
        #expect(client.call("qom-set", ["path": "/objects/m0", "property": "size", "value": 1])?["error"]?["desc"]
            == "cannot change property size of memory-backend-ram ")
        #expect(client.call("qom-get", ["path": "/objects/m0", "property": "size"])?["return"] == 67108864)
    }

    @Test func qomSetRefusesWhatQEMURefuses() {
        #expect(client.call("qom-set", ["path": "/nope", "property": "x", "value": 1])?["error"]
            == ["class": "DeviceNotFound", "desc": "Device '/nope' not found"])
        #expect(client.call("qom-set", ["path": "/machine", "property": "type", "value": "x"])?["error"]?["desc"]
            == "Property 'pc-i440fx-7.2-machine.type' is not writable")
        #expect(client.call("qom-set", ["path": "/machine/unattached/device[0]", "property": "sse", "value": false])?["error"]?["desc"]
            == "Attempt to set property 'sse' on anonymous device (type 'qemu64-x86_64-cpu') after it was realized")
        #expect(client.call("qom-set", ["path": "/machine/unattached/device[0]", "property": "nosuch", "value": false])?["error"]?["desc"]
            == "Property 'qemu64-x86_64-cpu.nosuch' not found")
    }

    @Test func balloonWithoutADeviceIsNotActive() {
        let notActive: JSONValue = ["class": "DeviceNotActive", "desc": "No balloon device has been activated"]
        #expect(client.call("query-balloon")?["error"] == notActive)
        #expect(client.call("balloon", ["value": 536870912])?["error"] == notActive)
        #expect(client.call("balloon", ["value": -1])?["error"] == notActive)
    }

    @Test func passwordsWithoutARemoteDisplayFail() {
        #expect(client.call("set_password", ["protocol": "vnc", "password": "x"])?["error"]
            == ["class": "GenericError", "desc": "Could not set password"])
        #expect(client.call("set_password", ["protocol": "vnc", "password": "x", "connected": "fail"])?["error"]?["desc"]
            == "Invalid parameter 'connected'")
        #expect(client.call("set_password", ["protocol": "spice", "password": "x"])?["error"]
            == ["class": "DeviceNotActive", "desc": "SPICE is not in use"])
        #expect(client.call("set_password", ["protocol": "spice", "password": "x", "display": "d"])?["error"]?["desc"]
            == "Parameter 'display' is unexpected")
        #expect(client.call("expire_password", ["protocol": "vnc", "time": "now"])?["error"]?["desc"]
            == "Could not set password expire time")
        #expect(client.call("expire_password", ["protocol": "spice", "time": "never"])?["error"]?["class"] == "DeviceNotActive")
    }

    @Test func miceAreThePS2MouseAndTheDisplayTablet() {
        let ps2: JSONValue = ["name": "QEMU PS/2 Mouse", "index": 2, "current": true, "absolute": false]
        #expect(client.call("query-mice")?["return"] == [ps2])
        let tablet = fleet.connect(to: "tab")
        tablet.negotiate()
        #expect(tablet.call("query-mice")?["return"]
            == [["name": "QEMU HID Tablet", "index": 3, "current": false, "absolute": true], ps2])
        let bare = fleet.connect(to: "bare")
        bare.negotiate()
        #expect(bare.call("query-mice")?["return"] == [])
    }
}
