import Foundation
import QMPWire
import Testing

/// chardev-add/-remove/-change and query-chardev, with real backends.
@Suite struct ChardevCommandTests {
    @Test func addRemoveAndQuery() throws {
        let vm = try ChardevVM()
        #expect(vm.add("c0", "null")?["return"] == .object([:]))
        #expect(vm.add("c0", "null")?["error"] == ["class": "GenericError", "desc": "Chardev with id 'c0' already exists"])
        #expect(vm.add("c1", "console")?["error"]?["desc"] == "Failed to add chardev 'c1': 'console' is not a valid char driver name")
        #expect(vm.ok("query-chardev") == [["label": "c0", "filename": "null", "frontend-open": false]])
        #expect(vm.error("chardev-remove", ["id": "nope"]) == ("GenericError", "Chardev 'nope' not found"))
        #expect(vm.ok("chardev-remove", ["id": "c0"]) == .object([:]))
        #expect(vm.ok("query-chardev") == [])
        let backends = vm.ok("query-chardev-backends")?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        #expect(Set(["null", "file", "pty", "socket", "ringbuf", "memory"]).isSubset(of: Set(backends)))
    }

    @Test func ptyIsARealTerminal() throws {
        let vm = try ChardevVM()
        let pty = vm.add("p0", "pty")?["return"]?["pty"]?.stringValue ?? ""
        #expect(pty.hasPrefix("/dev/pts/"))
        let fd = open(pty, O_RDWR | O_NOCTTY)
        #expect(fd >= 0)
        if fd >= 0 { close(fd) }
        #expect(vm.ok("query-chardev")?.arrayValue?.first?["filename"] == .string("pty:\(pty)"))
    }

    @Test func fileGetsGuestOutput() throws {
        let dir = ChardevVM.scratch()
        let vm = try ChardevVM()
        #expect(vm.add("f0", "file", ["out": .string("\(dir)/out.txt")])?["return"] == .object([:]))
        #expect(vm.guest("console-write", ["chardev": "f0", "text": "hello\nworld"])?["return"] == .object([:]))
        #expect(try String(contentsOfFile: "\(dir)/out.txt", encoding: .utf8) == "hello\r\nworld\r\n")
    }

    @Test func failedAddLeavesNothingBehind() throws {
        let dir = ChardevVM.scratch()
        let vm = try ChardevVM()
        let out = "\(dir)/out.txt"
        let reply = vm.add("f0", "file", ["out": .string(out), "in": .string("\(dir)/missing")])
        #expect(reply?["error"]?["desc"] == .string("Failed to add chardev 'f0': Could not open '\(dir)/missing': No such file or directory"))
        #expect(!FileManager.default.fileExists(atPath: out))
        #expect(vm.add("f1", "file", ["out": "/etc/qmpfleet-forbidden.txt"])?["error"]?["desc"]
                == "Failed to add chardev 'f1': Could not open '/etc/qmpfleet-forbidden.txt': Permission denied")
        #expect(vm.add("f2", "null", ["logfile": .string("\(dir)/nodir/log")])?["error"]?["desc"]
                == .string("Failed to add chardev 'f2': Could not create '\(dir)/nodir/log': No such file or directory"))
        #expect(vm.add("s0", "socket", ["addr": ["type": "unix", "data": ["path": "/etc/x.sock"]], "server": true])?["error"]?["desc"]
                == "Failed to add chardev 's0': Failed to bind socket to /etc/x.sock: Permission denied")
        #expect(vm.add("s1", "socket", ["addr": ["type": "unix", "data": ["path": .string("\(dir)/none.sock")]], "server": false])?["error"]?["desc"]
                == .string("Failed to add chardev 's1': Failed to connect to '\(dir)/none.sock': No such file or directory"))
        #expect(vm.ok("query-chardev") == [])
        #expect((try? FileManager.default.contentsOfDirectory(atPath: dir)) == [])
    }

    @Test func socketServerOwnsItsPath() throws {
        let dir = ChardevVM.scratch()
        let vm = try ChardevVM()
        let path = "\(dir)/s.sock"
        #expect(vm.add("s0", "socket", ["addr": ["type": "unix", "data": ["path": .string(path)]], "server": true, "wait": false])?["return"] == .object([:]))
        #expect(FileManager.default.fileExists(atPath: path))
        #expect(vm.ok("query-chardev")?.arrayValue?.first?["filename"] == .string("disconnected:unix:\(path),server=on"))
        #expect(vm.add("s1", "socket", ["addr": ["type": "unix", "data": ["path": .string(path)]], "reconnect": 1])?["error"]?["desc"]
                == "Failed to add chardev 's1': 'reconnect' option is incompatible with socket in server listen mode")
        _ = vm.ok("chardev-remove", ["id": "s0"])
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    /// A socket chardev never takes over a live socket, a file that is not
    /// a socket, the fleet's socket directory, or a path through a symlink;
    /// QEMU 7.2 unlinks whatever is at the path and binds (checked: a live
    /// listener's socket is replaced), so the refusal is the text its bind
    /// would give without that unlink.
    @Test func socketServerTakesNoPathOver() throws {
        let dir = ChardevVM.scratch()
        let vm = try ChardevVM()
        func add(_ id: String, _ path: String) -> JSONValue? {
            vm.add(id, "socket", ["addr": ["type": "unix", "data": ["path": .string(path)]], "server": true, "wait": false])?["error"]?["desc"]
        }
        // A live socket (another VM's, the control socket) stays, and keeps its inode.
        let live = "\(dir)/live.sock"
        let listening = Self.listen(at: live)
        defer { close(listening) }
        let inode = Self.inode(live)
        #expect(add("s0", live) == .string("Failed to add chardev 's0': Failed to bind socket to \(live): Address already in use"))
        #expect(Self.inode(live) == inode)
        // A regular file is no socket to replace.
        let file = "\(dir)/file"
        close(open(file, O_CREAT | O_WRONLY, 0o600))
        #expect(add("s1", file) == .string("Failed to add chardev 's1': Failed to bind socket to \(file): Address already in use"))
        #expect(FileManager.default.fileExists(atPath: file))
        // Descriptor names and the socket directory are refused.
        #expect(add("s2", "fd:foo") == "Failed to add chardev 's2': Failed to bind socket to fd:foo: Permission denied")
        #expect(add("s3", "/dev/fdset/0") == "Failed to add chardev 's3': Failed to bind socket to /dev/fdset/0: Permission denied")
        let socketDirectory = vm.fleet.router.config.socketDirectory
        #expect(add("s4", "\(socketDirectory)/fleet.qmp")
                == .string("Failed to add chardev 's4': Failed to bind socket to \(socketDirectory)/fleet.qmp: Permission denied"))
        // A symlinked directory on the way is refused, wherever it leads.
        let link = "\(dir)/link"
        symlink(dir, link)
        #expect(add("s5", "\(link)/x.sock") == .string("Failed to add chardev 's5': Failed to bind socket to \(link)/x.sock: Permission denied"))
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/x.sock"))
        // A client is not led through a symlinked directory to a live socket either.
        #expect(vm.add("c0", "socket", ["addr": ["type": "unix", "data": ["path": .string("\(link)/live.sock")]], "server": false])?["error"]?["desc"]
                == .string("Failed to add chardev 'c0': Failed to connect to '\(link)/live.sock': Permission denied"))
        #expect(vm.add("c1", "socket", ["addr": ["type": "unix", "data": ["path": .string(live)]], "server": false])?["return"] == .object([:]))
        _ = vm.ok("chardev-remove", ["id": "c1"])
        // A stale socket (nobody listens) is replaced, as before.
        let stale = "\(dir)/stale.sock"
        close(Self.listen(at: stale))
        #expect(vm.add("s6", "socket", ["addr": ["type": "unix", "data": ["path": .string(stale)]], "server": true, "wait": false])?["return"] == .object([:]))
        #expect(vm.ok("query-chardev")?.arrayValue?.count == 1)
    }

    /// Close removes the socket file only while it is the one the chardev bound.
    @Test func socketServerRemovesOnlyItsOwnFile() throws {
        let dir = ChardevVM.scratch()
        let vm = try ChardevVM()
        let path = "\(dir)/s.sock"
        #expect(vm.add("s0", "socket", ["addr": ["type": "unix", "data": ["path": .string(path)]], "server": true, "wait": false])?["return"] == .object([:]))
        // Someone else's socket now stands at the path.
        unlink(path)
        let other = Self.listen(at: path)
        defer { close(other) }
        let inode = Self.inode(path)
        #expect(vm.ok("chardev-remove", ["id": "s0"]) == .object([:]))
        #expect(Self.inode(path) == inode)
    }

    static func listen(at path: String) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() { raw[i] = b }
        }
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        Glibc.listen(fd, 1)
        return fd
    }

    static func inode(_ path: String) -> UInt? {
        var info = stat()
        return lstat(path, &info) == 0 ? UInt(info.st_ino) : nil
    }

    @Test func busyChardevAndChange() throws {
        let vm = try ChardevVM()
        _ = vm.add("c0", "ringbuf")
        #expect(vm.error("device_add", ["driver": "virtconsole", "id": "con0", "chardev": "c0"])
                == ("GenericError", "No 'virtio-serial-bus' bus found for device 'virtconsole'"))
        #expect(vm.ok("device_add", ["driver": "virtio-serial-pci", "id": "vs0"]) == .object([:]))
        #expect(vm.ok("device_add", ["driver": "virtconsole", "id": "con0", "chardev": "c0"]) == .object([:]))
        #expect(vm.error("device_add", ["driver": "virtserialport", "id": "p1", "chardev": "c0"])
                == ("GenericError", "Property 'virtserialport.chardev' can't take value 'c0': Device 'c0' is in use"))
        #expect(vm.error("device_add", ["driver": "virtserialport", "id": "p1", "chardev": "nope"])
                == ("GenericError", "Property 'virtserialport.chardev' can't find value 'nope'"))
        #expect(vm.error("chardev-remove", ["id": "c0"]) == ("GenericError", "Chardev 'c0' is busy"))
        #expect(vm.ok("query-chardev")?.arrayValue?.first?["frontend-open"] == true)
        // A busy chardev keeps its backend when the new one cannot open.
        #expect(vm.client.call("chardev-change", ["id": "c0", "backend": ["type": "file", "data": ["out": "/nonexistdir/x"]]])?["error"]?["desc"]
                == "Could not open '/nonexistdir/x': Permission denied")
        #expect(vm.client.call("chardev-change", ["id": "nope", "backend": ["type": "null", "data": [:]]])?["error"]?["desc"]
                == "Chardev 'nope' does not exist")
        let changed = vm.client.call("chardev-change", ["id": "c0", "backend": ["type": "pty", "data": [:]]])?["return"]
        #expect(changed?["pty"]?.stringValue?.hasPrefix("/dev/pts/") == true)
        #expect(vm.error("ringbuf-read", ["device": "c0", "size": 1]) == ("GenericError", "c0 is not a ringbuf device"))
        // Once the device is gone the chardev can go.
        _ = vm.ok("device_del", ["id": "con0"])
        vm.fleet.advance(by: 50)
        #expect(vm.ok("chardev-remove", ["id": "c0"]) == .object([:]))
    }

    @Test func isaSerialCannotBeHotplugged() throws {
        let vm = try ChardevVM()
        #expect(vm.error("device_add", ["driver": "isa-serial", "id": "s0"]) == ("GenericError", "Bus 'isa.0' does not support hotplugging"))
    }

    @Test func changeOfUnusedChardevRecreatesIt() throws {
        let vm = try ChardevVM()
        _ = vm.add("c2", "null")
        #expect(vm.client.call("chardev-change", ["id": "c2", "backend": ["type": "ringbuf", "data": [:]]])?["return"] == .object([:]))
        #expect(vm.ok("query-chardev") == [["label": "c2", "filename": "ringbuf", "frontend-open": false]])
        // As in QEMU 7.2, a failed change of an unused chardev leaves it gone.
        #expect(vm.client.call("chardev-change", ["id": "c2", "backend": ["type": "console", "data": [:]]])?["error"]?["desc"]
                == "Failed to add chardev 'c2': 'console' is not a valid char driver name")
        #expect(vm.ok("query-chardev") == [])
    }
}
