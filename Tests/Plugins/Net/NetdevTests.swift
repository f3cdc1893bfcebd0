import QMPWire
import Testing

/// netdev_add, netdev_del and set_link, with QEMU 7.2's texts.
@Suite struct NetdevTests {
    @Test func addDeleteAndDuplicates() throws {
        let vm = try NetVM()
        #expect(vm.ok("netdev_add", ["type": "user", "id": "n0"]) == .object([:]))
        #expect(vm.error("netdev_add", ["type": "user", "id": "n0"]) == ("GenericError", "Duplicate ID 'n0'"))
        #expect(vm.error("netdev_add", ["type": "user", "id": "0bad"]) == ("GenericError", "Parameter 'id' expects an identifier"))
        #expect(vm.ok("netdev_del", ["id": "n0"]) == .object([:]))
        #expect(vm.error("netdev_del", ["id": "n0"]) == ("DeviceNotFound", "Device 'n0' not found"))
        #expect(vm.ok("netdev_add", ["type": "user", "id": "n0"]) == .object([:]))
    }

    /// A VM's backends are bounded (`NetPlugin.netdevsPerVM`): past 1,024
    /// a new id is refused before anything is made, a duplicate still gets
    /// QEMU's text, and a netdev_del makes room again.
    @Test func netdevsPerVMBoundsNetdevAdd() throws {
        let vm = try NetVM()
        for n in 0..<1024 { #expect(vm.ok("netdev_add", ["type": "user", "id": .string("n\(n)")]) == .object([:])) }
        #expect(vm.error("netdev_add", ["type": "user", "id": "extra"])
                == ("GenericError", "The VM holds 1024 netdevs already (the net plugin's limit)"))
        #expect(vm.error("netdev_add", ["type": "user", "id": "n5"]) == ("GenericError", "Duplicate ID 'n5'"))
        #expect(vm.ok("netdev_del", ["id": "n0"]) == .object([:]))
        #expect(vm.ok("netdev_add", ["type": "user", "id": "extra"]) == .object([:]))
    }

    @Test func backendTypesAreCheckedAsQEMUChecksThem() throws {
        let vm = try NetVM()
        #expect(vm.error("netdev_add", ["type": "nic", "id": "a"]) == ("GenericError", "network backend 'nic' is not compiled into this binary"))
        #expect(vm.error("netdev_add", ["type": "bogus", "id": "a"]).0 == "GenericError")
        #expect(vm.error("netdev_add", ["id": "a"]).0 == "GenericError")
        #expect(vm.error("netdev_add", ["type": "socket", "id": "a"]) == ("GenericError", "exactly one of listen=, connect=, mcast= or udp= is required"))
        #expect(vm.error("netdev_add", ["type": "dgram", "id": "a"]) == ("GenericError", "dgram requires local= parameter"))
        #expect(vm.error("netdev_add", ["type": "user", "id": "a", "hostfwd": [["str": "bogus"]]])
                == ("GenericError", "Invalid host forwarding rule 'bogus' (No : separators)"))
        #expect(vm.error("netdev_add", ["type": "user", "id": "a", "foo": 1]).0 == "GenericError")
        // QEMU's bridge helper refuses a bridge /etc/qemu/bridge.conf does
        // not allow (none, by default); a simulated VM joins none.
        #expect(vm.error("netdev_add", ["type": "bridge", "id": "br0"]) == ("GenericError", "bridge helper failed"))
        #expect(vm.error("netdev_add", ["type": "bridge", "id": "br1", "br": "virbr0"]) == ("GenericError", "bridge helper failed"))
        for (type, extra) in [("tap", [:]), ("hubport", ["hubid": 0]), ("vhost-user", ["chardev": "c0"]),
                              ("socket", ["listen": "127.0.0.1:5000"]),
                              ("stream", ["addr": ["type": "unix", "path": "/tmp/x.sock"], "server": true])] as [(String, JSONObject)] {
            var args: JSONObject = ["type": .string(type), "id": .string("b-\(type)")]
            for (k, v) in extra { args[k] = v }
            #expect(vm.ok("netdev_add", args) == .object([:]), "netdev type \(type)")
        }
    }

    @Test func deletingABackendInUseSucceedsAndTheNICLosesItsLink() throws {
        let vm = try NetVM(net: "{netdevs: [{id: n0, type: user}], nics: [{id: nic0, model: virtio-net-pci, netdev: n0}]}")
        #expect(vm.guest("link-status", ["nic": "nic0"])?["return"] == ["up": true])
        // QEMU 7.2 lets it go (the issue wanted an error; QEMU wins).
        #expect(vm.ok("netdev_del", ["id": "n0"]) == .object([:]))
        #expect(vm.guest("link-status", ["nic": "nic0"])?["return"] == ["up": false])
        #expect(vm.ok("netdev_add", ["type": "user", "id": "n0"]) == .object([:]))
    }

    @Test func setLinkOnNICOrBackend() throws {
        let vm = try NetVM(net: "{netdevs: [{id: n0, type: user}], nics: [{id: nic0, model: e1000, netdev: n0}]}")
        #expect(vm.ok("set_link", ["name": "nic0", "up": false]) == .object([:]))
        #expect(vm.guest("link-status", ["nic": "nic0"])?["return"] == ["up": false])
        #expect(vm.ok("set_link", ["name": "n0", "up": true]) == .object([:]))
        #expect(vm.guest("link-status", ["nic": "nic0"])?["return"] == ["up": true])
        #expect(vm.error("set_link", ["name": "nope", "up": true]) == ("DeviceNotFound", "Device 'nope' not found"))
    }

    @Test func streamPeerEvents() throws {
        let vm = try NetVM()
        let addr: JSONValue = ["type": "unix", "path": "/tmp/st.sock"]
        #expect(vm.ok("netdev_add", ["type": "stream", "id": "st0", "addr": addr, "server": true]) == .object([:]))
        _ = vm.guest("stream-peer", ["netdev": "st0", "connected": true])
        _ = vm.guest("stream-peer", ["netdev": "st0", "connected": false])
        let events = vm.client.takeEvents()
        #expect(events.map { $0["event"]?.stringValue } == ["NETDEV_STREAM_CONNECTED", "NETDEV_STREAM_DISCONNECTED"])
        #expect(events.first?["data"] == ["netdev-id": "st0", "addr": addr])
    }

    @Test func badConfigIsRefused() {
        #expect(throws: (any Error).self) { try NetVM(net: "{netdevs: [{id: n0, type: socket}]}") }
        #expect(throws: (any Error).self) { try NetVM(net: "{nics: [{model: ne2k}]}") }
        for (net, message) in [("{nics: 5}", "net: 'nics' must be a list"), ("{netdevs: [{id: n0, type: user}, 5]}", "net: netdevs[1] must be a mapping"),
                               ("{nic: []}", "net: unknown key 'nic' (expected 'netdevs', 'nics')")] {
            let error = #expect(throws: (any Error).self) { try NetVM(net: net) }
            #expect(error.map { "\($0)".hasSuffix(message) } == true)
        }
    }
}
