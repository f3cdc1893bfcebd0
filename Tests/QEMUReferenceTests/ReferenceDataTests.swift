import QEMUReference
import QMPWire
import Testing

/// What `scripts/record-qemu-data` recorded from QEMU 7.2, as the probe
/// commands and the emulator read it.
@Suite struct ReferenceDataTests {
    /// The three recorded files are resources of this module, read from its
    /// bundle wherever the build or the installation put it.
    @Test func everyRecordedFileIsInTheModulesBundle() throws {
        let probe = try #require(RecordedQEMUFile.probe.read())
        #expect(probe["qom-types"]?.arrayValue?.isEmpty == false)
        let schema = try #require(RecordedQEMUFile.qmpSchema.read())
        #expect(schema["machines"]?["pc"]?["board"] != nil)
        let pci = try #require(RecordedQEMUFile.pciDevices.read())
        #expect(pci["machines"]?["q35"] != nil)
        #expect(BoardReferenceData.shared?.reply("query-pci", machineType: "pc-i440fx-7.2") != nil)
    }

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
