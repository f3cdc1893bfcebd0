import QMPPluginKit
import QMPWire
import Testing

/// `PluginVM.Machine`: the host's machine description read once for every
/// plugin. The text is what FleetCore's `MachineSpec.descriptionJSON` writes
/// for a q35 with `-smp 2,maxcpus=4 -m 1G,slots=2,maxmem=4G`.
struct MachineDescriptionTests {
    @Test func theHostsDescriptionIsTyped() throws {
        let machine = PluginVM.Machine(description: try JSONValue(parsing: """
            {"type": "pc-q35-7.2", "arch": "x86_64", "ram-size": 1073741824, "memory-slots": 2,
             "max-memory": 4294967296, "kvm": false, "cpu-model": "qemu64", "vcpu-thread-ids": [101, 102, 103, 104],
             "smp": {"cpus": 2, "sockets": 4, "cores": 1, "threads": 1, "maxcpus": 4},
             "qemu-version": {"major": 7, "minor": 2, "micro": 0}}
            """))
        #expect(machine.type == "pc-q35-7.2")
        #expect(machine.ramSize == 1 << 30 && machine.maxMemory == 4 << 30 && machine.memorySlots == 2)
        #expect(machine.cpuModel == "qemu64" && !machine.kvm)
        #expect(machine.vcpuThreadIDs == [101, 102, 103, 104])
        #expect(machine.smp == .init(cpus: 2, sockets: 4, cores: 1, threads: 1, maxCPUs: 4))
        #expect(machine.qemuVersion == .init(major: 7, minor: 2, micro: 0))
    }

    /// What a plugin read before with its own `?? "x86_64"`, `?? 1`: one
    /// default each, here; a null cpu-model is none.
    @Test func missingMembersReadAsADefaultPC() throws {
        let machine = PluginVM.Machine(description: try JSONValue(parsing: #"{"cpu-model": null, "smp": {"cpus": 3, "maxcpus": 1}}"#))
        #expect(machine.type == "pc" && machine.arch == "x86_64" && machine.ramSize == 0 && machine.cpuModel == nil)
        #expect(machine.smp == .init(cpus: 3, sockets: 1, cores: 1, threads: 1, maxCPUs: 3))
    }
}
