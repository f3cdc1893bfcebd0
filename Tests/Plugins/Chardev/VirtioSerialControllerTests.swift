import QMPWire
import Testing

/// A virtio-serial controller's port numbers, as QEMU 7.2 hands them out
/// and refuses them (each text from qemu-system-x86_64 -machine pc).
@Suite struct VirtioSerialControllerTests {
    static func add(_ vm: ChardevVM, _ driver: String, _ id: String, _ extra: JSONObject = [:]) -> (String?, String?) {
        var arguments: JSONObject = ["driver": .string(driver), "id": .string(id)]
        for (key, value) in extra { arguments[key] = value }
        return vm.error("device_add", arguments)
    }

    static func outOfRange(_ max: Int) -> (String?, String?) {
        ("GenericError", "virtio-serial-bus: Out-of-range port id specified, max. allowed: \(max)")
    }

    /// 31 numbers by default, 0 held for a console: 30 ports, then QEMU's refusal.
    @Test func aControllerTakesMaxPortsLessTheConsolesNumber() throws {
        let vm = try ChardevVM()
        #expect(Self.add(vm, "virtio-serial-pci", "vs0") == (nil, nil))
        for n in 0..<30 { #expect(Self.add(vm, "virtserialport", "p\(n)") == (nil, nil)) }
        #expect(Self.add(vm, "virtserialport", "p30") == Self.outOfRange(30))
        #expect(Self.add(vm, "virtserialport", "p31", ["nr": 40]) == Self.outOfRange(30))
        #expect(Self.add(vm, "virtconsole", "c0") == (nil, nil))
        #expect(Self.add(vm, "virtconsole", "c1") == Self.outOfRange(30))
        // A port that leaves frees its number.
        #expect(vm.ok("device_del", ["id": "p4"]) == .object([:]))
        vm.fleet.advance(by: 50)
        #expect(Self.add(vm, "virtserialport", "p30") == (nil, nil))
    }

    @Test func numbersNamesAndMaxPortsAreCheckedAsQEMUChecksThem() throws {
        let vm = try ChardevVM()
        #expect(Self.add(vm, "virtio-serial-pci", "vs0") == (nil, nil))
        #expect(Self.add(vm, "virtio-serial-pci", "vs1", ["max_ports": 3]) == (nil, nil))
        // Without a bus, the newest controller's.
        #expect(Self.add(vm, "virtserialport", "p0") == (nil, nil))
        #expect(Self.add(vm, "virtserialport", "p1", ["nr": "2"]) == (nil, nil))
        #expect(Self.add(vm, "virtserialport", "p2", ["nr": 2]) == ("GenericError", "virtio-serial-bus: A port already exists at id 2"))
        #expect(Self.add(vm, "virtserialport", "p3", ["nr": "abc"]) == ("GenericError", "Parameter 'nr' expects integer"))
        #expect(Self.add(vm, "virtserialport", "p4", ["nr": -1]) == ("GenericError", "Parameter 'nr' expects uint32_t"))
        #expect(Self.add(vm, "virtserialport", "p5", ["name": "org.x"]) == Self.outOfRange(2))
        #expect(Self.add(vm, "virtserialport", "p5", ["name": "org.x", "bus": "vs0.0"]) == (nil, nil))
        #expect(Self.add(vm, "virtserialport", "p6", ["name": "org.x", "bus": "vs0.0"])
                == ("GenericError", "virtio-serial-bus: A port already exists by name org.x"))
        #expect(Self.add(vm, "virtconsole", "c0", ["bus": "vs1.0"]) == (nil, nil))
        #expect(Self.add(vm, "virtio-serial-pci", "vs2", ["max_ports": 0]) == ("GenericError", "Maximum number of serial ports not specified"))
        #expect(Self.add(vm, "virtio-serial-pci", "vs3", ["max_ports": 512]) == ("GenericError", "maximum ports supported: 511"))
        #expect(Self.add(vm, "virtio-serial-pci", "vs4", ["max_ports": "7"]) == (nil, nil))
        #expect(Self.add(vm, "virtio-serial-pci", "vs5", ["max_ports": 32]) == (nil, nil))
        #expect(Self.add(vm, "virtserialport", "p7", ["nr": 0, "bus": "vs5.0"])
                == ("GenericError", "Port number 0 on virtio-serial devices reserved for virtconsole devices for backward compatibility."))
        #expect(Self.add(vm, "virtconsole", "c2", ["bus": "vs5.0"]) == (nil, nil))
        #expect(Self.add(vm, "virtserialport", "p8", ["nr": 40, "bus": "vs5.0"]) == Self.outOfRange(31))
        // 32 numbers fill the map's one word: then no number is free at all.
        for n in 1..<32 { #expect(Self.add(vm, "virtserialport", "q\(n)", ["bus": "vs5.0"]) == (nil, nil)) }
        #expect(Self.add(vm, "virtserialport", "q32", ["bus": "vs5.0"])
                == ("GenericError", "virtio-serial-bus: Maximum port limit for this device reached"))
    }
}
