@testable import FleetCore
import QMPWire
import Testing

/// Each VM's machine description is its kind of machine's text with its
/// own vCPU thread ids put in: the same bytes as writing it whole.
@Suite struct MachineDescriptionTextTests {
    private func whole(_ machine: MachineSpec, _ version: QEMUVersion, _ ids: [Int]) -> ContiguousArray<CChar> {
        ContiguousArray(machine.descriptionJSON(qemuVersion: version, vcpuThreadIDs: ids).jsonText.utf8CString)
    }

    @Test func theTextIsTheWholeDescriptionsForEveryVM() {
        var q35 = MachineSpec()
        q35.type = "pc-q35-7.2"
        q35.cpuModel = #"max,"quoted"\"#
        q35.smp.cpus = 2
        q35.smp.maxCPUs = 4
        q35.memorySlots = 2
        q35.maxMemoryBytes = 4 << 30
        var virt = MachineSpec()
        virt.type = "virt-7.2"
        virt.arch = "aarch64"
        let version = QEMUVersion(major: 7, minor: 2, micro: 0)
        for machine in [MachineSpec(), q35, virt, q35] {
            for ids in [[], [4242], [1001, 1002, 1003, 1004], [-1, 0, Int.max], [Int.min, 9, 10, 99, 100]] {
                #expect(MachineDescriptionText.cString(for: machine, qemuVersion: version, vcpuThreadIDs: ids) == whole(machine, version, ids))
            }
        }
        let other = QEMUVersion(major: 8, minor: 0, micro: 1)
        #expect(MachineDescriptionText.cString(for: q35, qemuVersion: other, vcpuThreadIDs: [7]) == whole(q35, other, [7]))
    }

    /// `vm_machine_json_shared`'s text: the description with no ids, the
    /// same kind (and so the same bytes) for the VMs of one kind of machine.
    @Test func theSharedTextIsTheDescriptionWithNoIDs() {
        var q35 = MachineSpec()
        q35.type = "pc-q35-7.2"
        q35.smp.maxCPUs = 4
        let version = QEMUVersion(major: 7, minor: 2, micro: 0)
        let kind = MachineDescriptionText.kind(for: q35, qemuVersion: version)
        #expect(kind.sharedCString == whole(q35, version, []))
        #expect(MachineDescriptionText.kind(for: q35, qemuVersion: version) === kind)
        #expect(kind.cString(vcpuThreadIDs: [9, 10, 11, 12]) == whole(q35, version, [9, 10, 11, 12]))
    }
}
