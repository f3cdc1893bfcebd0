import Foundation
import QMPFleetTesting
import QMPWire
import Testing

/// rng-random, rng-builtin, rng-egd and virtio-rng-pci, each reply as
/// qemu-system-x86_64 7.2 gave it on this machine.
@Suite struct RngTests {
    @Test func backendObjects() throws {
        let dir = ChardevVM.scratch()
        let vm = try ChardevVM()
        func object(_ type: String, _ id: String, _ props: JSONObject = [:]) -> JSONValue? {
            var args: JSONObject = ["qom-type": .string(type), "id": .string(id)]
            for (key, value) in props { args[key] = value }
            return vm.client.call("object-add", args)
        }
        #expect(object("rng-random", "r0")?["return"] == .object([:]))
        #expect(vm.ok("qom-get", ["path": "/objects/r0", "property": "filename"]) == "/dev/urandom")
        #expect(vm.ok("qom-get", ["path": "/objects/r0", "property": "opened"]) == true)
        FileManager.default.createFile(atPath: "\(dir)/entropy", contents: Data([1, 2, 3]))
        #expect(object("rng-random", "r1", ["filename": .string("\(dir)/entropy")])?["return"] == .object([:]))
        #expect(object("rng-random", "r2", ["filename": .string("\(dir)/none")])?["error"]
                == ["class": "GenericError", "desc": .string("Could not open '\(dir)/none': No such file or directory")])
        #expect(object("rng-random", "r3", ["opened": true])?["error"]?["desc"] == "Property 'rng-random.opened' is not writable")
        #expect(object("rng-builtin", "b0")?["return"] == .object([:]))
        #expect(object("rng-builtin", "b1", ["filename": "x"])?["error"]?["desc"] == "Parameter 'filename' is unexpected")
        #expect(object("rng-egd", "e0")?["error"]?["desc"] == "Parameter 'chardev' is missing")
        #expect(object("rng-egd", "e0", ["chardev": "nope"])?["error"] == ["class": "DeviceNotFound", "desc": "Device 'nope' not found"])
        _ = vm.add("c1", "null")
        #expect(object("rng-egd", "e1", ["chardev": "c1"])?["return"] == .object([:]))
        #expect(object("rng-egd", "e2", ["chardev": "c1"])?["error"]?["desc"] == "Device 'c1' is in use")
        #expect(vm.ok("query-chardev") == [["label": "c1", "filename": "null", "frontend-open": true]])
        #expect(vm.error("chardev-remove", ["id": "c1"]) == ("GenericError", "Chardev 'c1' is busy"))
        #expect(vm.ok("object-del", ["id": "e1"]) == .object([:]))
        #expect(vm.ok("chardev-remove", ["id": "c1"]) == .object([:]))
        let objects = vm.ok("qom-list", ["path": "/objects"])?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        #expect(Set(objects).isSuperset(of: ["r0", "r1", "b0"]))
    }

    /// `objects-per-vm` bounds what one VM's clients can hold: an
    /// `rng-random` opens /dev/urandom anywhere, so without it one client's
    /// object-adds could use up the process's descriptors. Refused before
    /// anything is opened; an object-del makes room again.
    @Test func objectsPerVMBoundsObjectAdd() throws {
        let fleet = try TestFleet(yaml: """
            limits: {objects-per-vm: 2}
            vms: [{name: vm0, machine: pc, plugins: {chardev: {serial: []}}}]
            """)
        let client = fleet.negotiatedClient(to: "vm0")
        func add(_ id: String) -> JSONValue? { client.call("object-add", ["qom-type": "rng-random", "id": .string(id)]) }
        #expect(add("r0")?["return"] == .object([:]))
        #expect(add("r1")?["return"] == .object([:]))
        #expect(add("r2")?["error"] == ["class": "GenericError", "desc": "VM 'vm0' holds 2 objects already (limit objects-per-vm)"])
        #expect(add("r1")?["error"]?["desc"] == "attempt to add duplicate property 'r1' to object (type 'container')")
        #expect(client.call("object-del", ["id": "r0"])?["return"] == .object([:]))
        #expect(add("r2")?["return"] == .object([:]))
        let objects = client.call("qom-list", ["path": "/objects"])?["return"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        #expect(Set(objects).isSuperset(of: ["r1", "r2"]) && !objects.contains("r0"))
    }

    @Test func virtioRNGDevice() throws {
        let vm = try ChardevVM()
        _ = vm.client.call("object-add", ["qom-type": "rng-builtin", "id": "rng0"])
        _ = vm.add("c1", "null")
        #expect(vm.error("device_add", ["driver": "virtio-rng-pci", "id": "v0", "rng": "nope"]) == ("DeviceNotFound", "Device 'nope' not found"))
        #expect(vm.error("device_add", ["driver": "virtio-rng-pci", "id": "v0", "rng": "c1"])
                == ("GenericError", "Invalid parameter type for 'rng', expected: rng-backend"))
        #expect(vm.error("device_add", ["driver": "virtio-rng-pci", "id": "v0", "rng": "rng0", "period": 0])
                == ("GenericError", "'period' parameter expects a positive integer"))
        #expect(vm.error("device_add", ["driver": "virtio-rng-pci", "id": "v0", "rng": "rng0", "period": "99999999999"])
                == ("GenericError", "Parameter 'period' expects uint32_t"))
        #expect(vm.error("device_add", ["driver": "virtio-rng-pci", "id": "v0", "rng": "rng0", "max-bytes": -1])
                == ("GenericError", "'max-bytes' parameter must be non-negative, and less than 2^63"))
        #expect(vm.error("device_add", ["driver": "virtio-rng-pci", "id": "v0", "rng": "rng0", "max-bytes": "abc"])
                == ("GenericError", "Parameter 'max-bytes' expects integer"))
        #expect(vm.ok("device_add", ["driver": "virtio-rng-pci", "id": "v0", "rng": "rng0"]) == .object([:]))
        #expect(vm.ok("device_add", ["driver": "virtio-rng-pci", "id": "v1"]) == .object([:]))
        let pci = vm.ok("query-pci")?.arrayValue?.first?["devices"]?.arrayValue ?? []
        let entry = pci.first { $0["qdev_id"] == "v0" }
        #expect(entry?["id"]?["device"] == 4101 && entry?["id"]?["subsystem"] == 4)
        #expect(vm.ok("device_del", ["id": "v0"]) == .object([:]))
        vm.fleet.advance(by: 50)
        #expect(vm.ok("query-pci")?.arrayValue?.first?["devices"]?.arrayValue?.contains { $0["qdev_id"] == "v0" } == false)
    }

    /// QEMU 7.2 refuses chardev-change of the chardev an rng-egd reads (its
    /// use has no hotswap); swapped, the new chardev kept the object's use
    /// after object-del, busy for the VM's life.
    @Test func egdChardevIsNotHotswapped() throws {
        let vm = try ChardevVM()
        _ = vm.add("c1", "null")
        _ = vm.client.call("object-add", ["qom-type": "rng-egd", "id": "e1", "chardev": "c1"])
        #expect(vm.error("chardev-change", ["id": "c1", "backend": ["type": "null", "data": [:]]])
                == ("GenericError", "Chardev user does not support chardev hotswap"))
        #expect(vm.ok("object-del", ["id": "e1"]) == .object([:]))
        #expect(vm.ok("chardev-remove", ["id": "c1"]) == .object([:]))
    }

    /// QEMU 7.2: object-del of a backend a device reads succeeds, but the
    /// object lives on, holding its chardev, until the device goes.
    @Test func deletedBackendLivesWhileADeviceReadsIt() throws {
        let vm = try ChardevVM()
        _ = vm.add("c1", "null")
        _ = vm.client.call("object-add", ["qom-type": "rng-egd", "id": "e1", "chardev": "c1"])
        #expect(vm.ok("device_add", ["driver": "virtio-rng-pci", "id": "v2", "rng": "e1"]) == .object([:]))
        #expect(vm.ok("object-del", ["id": "e1"]) == .object([:]))
        #expect(vm.ok("query-chardev")?.arrayValue?.first?["frontend-open"] == true)
        #expect(vm.error("chardev-remove", ["id": "c1"]) == ("GenericError", "Chardev 'c1' is busy"))
        _ = vm.ok("device_del", ["id": "v2"])
        vm.fleet.advance(by: 50)
        #expect(vm.ok("chardev-remove", ["id": "c1"]) == .object([:]))
    }
}
