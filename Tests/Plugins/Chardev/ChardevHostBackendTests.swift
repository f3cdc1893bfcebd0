import Foundation
import QMPWire
import Testing

/// The backends QEMU 7.2 has beyond the first twelve: udp, pipe, serial,
/// parallel, mux, dbus, spicevmc, spiceport, braille; each reply's text is
/// what qemu-system-x86_64 7.2 answered on this machine.
@Suite struct ChardevHostBackendTests {
    /// QEMU's listing order; the kinds of a module only once a chardev-add
    /// of one of them loaded it (even a failing one).
    @Test func backendsListedAsQEMUListsThem() throws {
        let vm = try ChardevVM()
        func names() -> [String] { vm.ok("query-chardev-backends")?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? [] }
        #expect(names() == ["testdev", "pty", "wctablet", "serial", "file", "memory", "udp", "parallel", "vc", "socket",
                            "msmouse", "null", "qemu-vdagent", "pipe", "mux", "ringbuf", "stdio"])
        #expect(vm.add("d1", "dbus", ["name": "foo"])?["return"] == .object([:]))
        #expect(names().contains("dbus") && !names().contains("spicevmc"))
        #expect(vm.add("sp", "spiceport", ["fqdn": "org.foo"])?["error"]?["desc"] == "Failed to add chardev 'sp': spice not enabled")
        #expect(vm.add("br", "braille")?["error"]?["desc"]
                == "Failed to add chardev 'br': brlapi__openConnection: connect: No such file or directory")
        #expect(names() == ["testdev", "pty", "wctablet", "serial", "file", "memory", "udp", "dbus", "parallel", "vc",
                            "spiceport", "braille", "socket", "msmouse", "null", "qemu-vdagent", "pipe", "mux",
                            "spicevmc", "ringbuf", "stdio"])
    }

    @Test func udpSendsToTheRemoteItNamed() throws {
        let peer = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(peer) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(peer, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(peer, $0, &len) } }
        let port = String(UInt16(bigEndian: addr.sin_port))
        let vm = try ChardevVM()
        let remote: JSONValue = ["type": "inet", "data": ["host": "127.0.0.1", "port": .string(port)]]
        #expect(vm.add("u1", "udp", ["remote": remote])?["return"] == .object([:]))
        #expect(vm.ok("query-chardev") == [["label": "u1", "filename": "udp", "frontend-open": false]])
        #expect(vm.guest("console-write", ["chardev": "u1", "text": "over udp"])?["return"] == .object([:]))
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(peer, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = recv(peer, &buffer, buffer.count, 0)
        #expect(n > 0 && Array(buffer[0..<max(n, 0)]) == Array("over udp\r\n".utf8))
        #expect(vm.ok("chardev-remove", ["id": "u1"]) == .object([:]))
    }

    @Test func udpRefusesAsQEMUDoes() throws {
        let vm = try ChardevVM()
        func inet(_ data: JSONObject) -> JSONValue { ["type": "inet", "data": .object(data)] }
        func udp(_ id: String, _ data: JSONObject) -> JSONValue? { vm.add(id, "udp", data)?["error"]?["desc"] }
        #expect(udp("u1", ["remote": ["type": "unix", "data": ["path": "/tmp/x"]]]) == "Failed to add chardev 'u1': socket type unsupported for datagram")
        #expect(udp("u2", ["remote": inet(["host": "127.0.0.1", "port": ""])]) == "Failed to add chardev 'u2': remote port not specified")
        #expect(udp("u3", ["remote": inet(["host": "127.0.0.1", "port": "4555", "ipv4": false, "ipv6": false])])
                == "Failed to add chardev 'u3': Cannot disable IPv4 and IPv6 at same time")
        #expect(udp("u4", ["remote": inet(["host": "::1", "port": "4555", "ipv4": true])])
                == "Failed to add chardev 'u4': address resolution failed for ::1:4555: Address family for hostname not supported")
        #expect(udp("u5", ["remote": inet(["host": "127.0.0.1", "port": "abc"])])
                == "Failed to add chardev 'u5': address resolution failed for 127.0.0.1:abc: Servname not supported for ai_socktype")
        #expect(udp("u6", ["remote": inet(["host": "127.0.0.1", "port": "4555"]), "local": inet(["host": "10.9.9.9", "port": "0"])])
                == "Failed to add chardev 'u6': Failed to bind socket: Cannot assign requested address")
        #expect(vm.ok("query-chardev") == [])
    }

    /// The fleet sends to loopback only (docs/security.md): a `udp`
    /// chardev whose remote is another host, or a name other than
    /// `localhost` (whose lookup would itself be DNS traffic), is refused
    /// before anything is resolved or sent; a local address is bound only,
    /// but named by number too. QEMU 7.2 sends wherever it is told.
    @Test func udpSendsToLoopbackOnly() throws {
        let vm = try ChardevVM()
        func inet(_ host: String, _ port: String = "4555") -> JSONValue { ["type": "inet", "data": ["host": .string(host), "port": .string(port)]] }
        func udp(_ id: String, _ data: JSONObject) -> JSONValue? { vm.add(id, "udp", data)?["error"]?["desc"] }
        let refusal = "udp chardevs send to loopback addresses only in this simulator"
        #expect(udp("u1", ["remote": inet("192.0.2.1")]) == .string("Failed to add chardev 'u1': \(refusal): '192.0.2.1' is not one"))
        #expect(udp("u2", ["remote": inet("2001:db8::1")]) == .string("Failed to add chardev 'u2': \(refusal): '2001:db8::1' is not one"))
        #expect(udp("u3", ["remote": inet("no.such.host.invalid")])
                == .string("Failed to add chardev 'u3': \(refusal): 'no.such.host.invalid' is not one"))
        #expect(udp("u4", ["remote": inet("127.0.0.1"), "local": inet("example.invalid", "0")])
                == .string("Failed to add chardev 'u4': \(refusal): 'example.invalid' is not one"))
        #expect(udp("u5", ["remote": inet("0.0.0.0")]) == .string("Failed to add chardev 'u5': \(refusal): '0.0.0.0' is not one"))
        #expect(vm.ok("query-chardev") == [])
        // Loopback by number or as localhost (an empty host is localhost).
        #expect(vm.add("u6", "udp", ["remote": inet("127.0.0.2")])?["return"] == .object([:]))
        #expect(vm.add("u7", "udp", ["remote": inet("localhost")])?["return"] == .object([:]))
        #expect(vm.add("u8", "udp", ["remote": inet("")])?["return"] == .object([:]))
        #expect(vm.add("u9", "udp", ["remote": inet("127.0.0.1"), "local": inet("0.0.0.0", "0")])?["return"] == .object([:]))
    }

    /// A VM's chardevs are bounded (most hold a descriptor): past 1,024 a
    /// new id is refused before anything is opened, a duplicate still gets
    /// QEMU's text, and a chardev-remove makes room again.
    @Test func chardevsPerVMBoundsChardevAdd() throws {
        let vm = try ChardevVM(chardev: "{serial: []}")
        for n in 0..<1024 { #expect(vm.add("n\(n)", "null")?["return"] == .object([:])) }
        #expect(vm.add("extra", "null")?["error"]?["desc"]
                == "Failed to add chardev 'extra': the VM holds 1024 chardevs already (the chardev plugin's limit)")
        #expect(vm.add("n5", "null")?["error"]?["desc"] == "Chardev with id 'n5' already exists")
        #expect(vm.ok("chardev-remove", ["id": "n0"]) == .object([:]))
        #expect(vm.add("extra", "null")?["return"] == .object([:]))
    }

    @Test func pipeOpensInAndOutOrThePathItself() throws {
        let dir = ChardevVM.scratch()
        let vm = try ChardevVM()
        #expect(vm.add("p1", "pipe", ["device": .string("\(dir)/none")])?["error"]?["desc"]
                == .string("Failed to add chardev 'p1': Could not open '\(dir)/none': No such file or directory"))
        // The fleet opens regular files only (docs/security.md): PATH.in and
        // PATH.out as files here, where QEMU would take FIFOs too.
        FileManager.default.createFile(atPath: "\(dir)/f.in", contents: nil)
        FileManager.default.createFile(atPath: "\(dir)/f.out", contents: nil)
        #expect(vm.add("p2", "pipe", ["device": .string("\(dir)/f")])?["return"] == .object([:]))
        #expect(vm.guest("console-write", ["chardev": "p2", "text": "to the pipe"])?["return"] == .object([:]))
        var got = Data()
        for _ in 0..<500 where got.count < 13 {
            got = FileManager.default.contents(atPath: "\(dir)/f.out") ?? Data()
            if got.count < 13 { usleep(10_000) }
        }
        #expect(Array(got) == Array("to the pipe\r\n".utf8))
        #expect(FileManager.default.contents(atPath: "\(dir)/f.in") == Data())
        FileManager.default.createFile(atPath: "\(dir)/plain", contents: nil)
        #expect(vm.add("p3", "pipe", ["device": .string("\(dir)/plain")])?["return"] == .object([:]))
        #expect(vm.ok("query-chardev")?.arrayValue?.map { $0["filename"] } == ["pipe", "pipe"])
    }

    @Test func serialAndParallelDevices() throws {
        let vm = try ChardevVM()
        #expect(vm.add("s1", "serial", ["device": "/dev/null"])?["return"] == .object([:]))
        let dir = ChardevVM.scratch()
        #expect(vm.add("s2", "serial", ["device": .string("\(dir)/tty")])?["error"]?["desc"]
                == .string("Failed to add chardev 's2': Could not open '\(dir)/tty': No such file or directory"))
        #expect(vm.add("pa", "parallel", ["device": "/dev/null"])?["error"]?["desc"]
                == "Failed to add chardev 'pa': not a parallel port: Inappropriate ioctl for device")
        #expect(vm.ok("query-chardev") == [["label": "s1", "filename": "serial", "frontend-open": false]])
        #expect(vm.ok("chardev-remove", ["id": "s1"]) == .object([:]))
    }

    /// A mux takes its base as its one user; in QEMU 7.2 neither can be
    /// removed or changed after.
    @Test func muxOverAnotherChardev() throws {
        let vm = try ChardevVM()
        #expect(vm.add("m0", "mux", ["chardev": "nope"])?["error"]?["desc"] == "Failed to add chardev 'm0': mux: base chardev nope not found")
        #expect(vm.add("r0", "ringbuf")?["return"] == .object([:]))
        #expect(vm.add("m1", "mux", ["chardev": "r0"])?["return"] == .object([:]))
        #expect(vm.add("m2", "mux", ["chardev": "r0"])?["error"]?["desc"] == "Failed to add chardev 'm2': Device 'r0' is in use")
        #expect(vm.add("m3", "mux", ["chardev": "m1"])?["return"] == .object([:]))
        #expect(vm.guest("console-write", ["chardev": "m3", "text": "muxed"])?["return"] == .object([:]))
        #expect(vm.ok("ringbuf-read", ["device": "r0", "size": 100]) == "muxed\r\n")
        #expect(vm.error("chardev-remove", ["id": "r0"]) == ("GenericError", "Chardev 'r0' is busy"))
        #expect(vm.error("chardev-remove", ["id": "m3"]) == ("GenericError", "Chardev 'm3' is busy"))
        #expect(vm.error("chardev-change", ["id": "m1", "backend": ["type": "null", "data": [:]]])
                == ("GenericError", "Mux device hotswap not supported yet"))
        #expect(vm.error("chardev-change", ["id": "r0", "backend": ["type": "null", "data": [:]]])
                == ("GenericError", "Chardev user does not support chardev hotswap"))
        // QEMU 7.2's order (its hash table of /chardevs, compat_monitor0 among them): m1, r0, m3.
        #expect(vm.ok("query-chardev")?.arrayValue?.map { $0["label"] } == ["m1", "r0", "m3"])
        #expect(vm.ok("query-chardev")?.arrayValue?.map { $0["filename"] } == ["mux", "ringbuf", "mux"])
    }

    /// The chardevs a VM is made with keep no table (ChardevOrder makes it
    /// when asked), and it has QEMU's order: `-chardev ringbuf,id=c3
    /// -chardev ringbuf,id=c1 -qmp ...` lists c3, c1, compat_monitor0 on
    /// qemu-system-x86_64 7.2, where a table made with the monitor's chardev
    /// first (as each configured chardev's add made it) lists c1, c3.
    @Test func configuredChardevsListedInQEMUsOrder() throws {
        let vm = try ChardevVM(chardev: "{serial: [{id: c3, backend: ringbuf}, {id: c1, backend: ringbuf}]}")
        #expect(vm.ok("query-chardev")?.arrayValue?.map { $0["label"] } == ["c3", "c1"])
        // A chardev-add then takes its slot in that same table: QEMU 7.2 lists c8, c3, c1, compat_monitor0.
        #expect(vm.add("c8", "ringbuf", [:])?["return"] == .object([:]))
        #expect(vm.ok("query-chardev")?.arrayValue?.map { $0["label"] } == ["c8", "c3", "c1"])
    }

    @Test func spiceAndDBusChannels() throws {
        let vm = try ChardevVM()
        #expect(vm.add("sv", "spicevmc", ["type": "vdagent"])?["return"] == .object([:]))
        #expect(vm.add("sv2", "spicevmc", ["type": "port"])?["error"]?["desc"] == "Failed to add chardev 'sv2': unsupported type name: port")
        #expect(vm.add("d1", "dbus", ["name": "org.qemu"])?["return"] == .object([:]))
        #expect(vm.ok("query-chardev") == [["label": "sv", "filename": "spicevmc", "frontend-open": false],
                                          ["label": "d1", "filename": "disconnected:fd:,server=on", "frontend-open": false]])
        #expect(vm.ok("chardev-remove", ["id": "d1"]) == .object([:]))
        #expect(vm.ok("chardev-remove", ["id": "sv"]) == .object([:]))
    }
}
