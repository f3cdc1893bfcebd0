@testable import FleetCore
import QMPWire
import Testing

/// What `scripts/record-qemu-data` recorded from QEMU 7.2, as the probe
/// commands and the emulator read it.
@Suite struct ReferenceDataTests {
    @Test func recordedVersionIsTheDebianBuilds() throws {
        let version = try #require(ReferenceQEMUVersion.recorded)
        #expect((version.major, version.minor) == (7, 2))
        #expect(version.micro > 0)
        #expect(version.package.hasPrefix("Debian 1:7.2"))
    }

    @Test func otherCPUModelsDifferFromQemu64WhereQEMUSays() throws {
        let data = try #require(QEMUReferenceData.shared)
        let qemu64 = try #require(data.bootCPUPropertyValues(type: "qemu64-x86_64-cpu"))
        let haswell = try #require(data.bootCPUPropertyValues(type: "Haswell-x86_64-cpu"))
        #expect(qemu64["model-id"] == "QEMU Virtual CPU version 2.5+")
        #expect(haswell["model-id"] == "Intel Core Processor (Haswell)")
        #expect(haswell["avx2"] == true && qemu64["avx2"] == false)
        // Same property set; unrecorded models have none.
        #expect(Set(haswell.keys) == Set(qemu64.keys))
        #expect(data.bootCPUPropertyValues(type: "no-such-x86_64-cpu") == nil)
    }
}
