import QMPPluginKit
import QMPWire
import Testing

/// QemuOptsText prints what QEMU 7.2's qemu_opts_from_qdict_entry keeps.
@Suite struct QemuOptsTextTests {
    @Test func scalarsAreTextAndTheRestIsDropped() {
        #expect(QemuOptsText.of(.string("n0")) == "n0")
        #expect(QemuOptsText.of(.int(-3)) == "-3")
        #expect(QemuOptsText.of(.uint(UInt64.max)) == "18446744073709551615")
        #expect(QemuOptsText.of(.bool(true)) == "on")
        #expect(QemuOptsText.of(.bool(false)) == "off")
        #expect(QemuOptsText.of(.double(1.0)) == "1")
        #expect(QemuOptsText.of(.double(0.1)) == "0.10000000000000001")
        #expect(QemuOptsText.of(.double(1e300)) == "1.0000000000000001e+300")
        #expect(QemuOptsText.of(.null) == nil)
        #expect(QemuOptsText.of([1]) == nil)
        #expect(QemuOptsText.of(.object([:])) == nil)
    }
}
