import QMPWire
import Testing

/// ringbuf-write and ringbuf-read: QEMU 7.2's semantics and errors.
@Suite struct RingbufTests {
    @Test func keepsTheNewestBytes() throws {
        let vm = try ChardevVM()
        #expect(vm.add("r0", "ringbuf", ["size": 8])?["return"] == .object([:]))
        #expect(vm.ok("ringbuf-write", ["device": "r0", "data": "hello world"]) == .object([:]))
        #expect(vm.ok("ringbuf-read", ["device": "r0", "size": 100]) == "lo world")
        _ = vm.ok("ringbuf-write", ["device": "r0", "data": "abc"])
        #expect(vm.ok("ringbuf-read", ["device": "r0", "size": 2]) == "ab")
        #expect(vm.ok("ringbuf-read", ["device": "r0", "size": 100, "format": "base64"]) == "Yw==")
        #expect(vm.ok("ringbuf-read", ["device": "r0", "size": 100]) == "")
    }

    @Test func base64AndUTF8() throws {
        let vm = try ChardevVM()
        _ = vm.add("r0", "memory")
        _ = vm.ok("ringbuf-write", ["device": "r0", "data": "aGVsbG8=", "format": "base64"])
        #expect(vm.ok("ringbuf-read", ["device": "r0", "size": 100]) == "hello")
        #expect(vm.error("ringbuf-write", ["device": "r0", "data": "!!!", "format": "base64"])
                == ("GenericError", "Base64 data contains invalid characters"))
        _ = vm.ok("ringbuf-write", ["device": "r0", "data": "h\u{e9}\u{20ac}"])
        #expect(vm.ok("ringbuf-read", ["device": "r0", "size": 3]) == "h\u{e9}")
        #expect(vm.ok("ringbuf-read", ["device": "r0", "size": 100]) == "\u{20ac}")
        _ = vm.ok("ringbuf-write", ["device": "r0", "data": "/w==", "format": "base64"])
        #expect(vm.ok("ringbuf-read", ["device": "r0", "size": 100]) == "\u{fffd}")
        _ = vm.ok("ringbuf-write", ["device": "r0", "data": "/w==", "format": "base64"])
        #expect(vm.ok("ringbuf-read", ["device": "r0", "size": 100, "format": "base64"]) == "/w==")
    }

    @Test func errors() throws {
        let vm = try ChardevVM()
        _ = vm.add("n0", "null")
        _ = vm.add("r0", "ringbuf")
        #expect(vm.add("r1", "ringbuf", ["size": 7])?["error"]?["desc"] == "Failed to add chardev 'r1': size of ringbuf chardev must be power of two")
        #expect(vm.error("ringbuf-read", ["device": "r0", "size": 0]) == ("GenericError", "size must be greater than zero"))
        #expect(vm.error("ringbuf-read", ["device": "n0", "size": 1]) == ("GenericError", "n0 is not a ringbuf device"))
        #expect(vm.error("ringbuf-read", ["device": "nope", "size": 1]) == ("GenericError", "Device 'nope' not found"))
        #expect(vm.error("ringbuf-write", ["device": "nope", "data": "x"]) == ("GenericError", "Device 'nope' not found"))
        #expect(vm.error("ringbuf-write", ["device": "r0", "data": "x", "format": "bogus"]).0 == "GenericError")
    }
}
