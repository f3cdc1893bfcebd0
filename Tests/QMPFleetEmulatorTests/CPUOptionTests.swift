import FleetCore
import QMPWire
import Testing
@testable import qmpfleet_emulator

/// `-cpu`: the model becomes the VM's `cpu`, the type of its boot vCPUs and
/// of those the CPU hot-plug plugin plugs; feature switches are accepted and logged.
@Suite struct CPUOptionTests {
    static let base = ["-machine", "pc", "-qmp", "unix:/tmp/x.sock,server=on,wait=off"]

    @Test func modelNamesTheVCPUType() throws {
        let plan = try EmulatorPlan(arguments: Self.base + ["-cpu", "Haswell"], arch: "x86_64")
        #expect(plan.cpuModel == "Haswell")
        #expect(plan.entry["cpu"] == "Haswell")
        #expect(plan.ignored.isEmpty)
    }

    @Test func featureSwitchesAreLoggedNotSimulated() throws {
        let plan = try EmulatorPlan(arguments: Self.base + ["-cpu", "Skylake-Client,+avx2,vmx=off"], arch: "x86_64")
        #expect(plan.entry["cpu"] == "Skylake-Client")
        #expect(plan.ignored == ["-cpu features +avx2,vmx=off"])
    }

    @Test func withoutCPUTheBoardDefaultStays() throws {
        let plan = try EmulatorPlan(arguments: Self.base, arch: "x86_64")
        #expect(plan.cpuModel == nil)
        #expect(plan.entry["cpu"] == nil)
    }
}

/// `-smp` with `maxcpus` and a partial topology, completed as QEMU 7.2 does.
@Suite struct SMPTopologyTests {
    @Test func maxCPUsMakeCores() throws {
        let plan = try EmulatorPlan(arguments: CPUOptionTests.base + ["-smp", "1,maxcpus=4"], arch: "x86_64")
        #expect(plan.entry["smp"] == ["cpus": 1, "maxcpus": 4, "sockets": 1, "threads": 1, "cores": 4])
    }

    @Test func givenSocketsAndThreadsAreKept() throws {
        let plan = try EmulatorPlan(arguments: CPUOptionTests.base + ["-smp", "2,sockets=2,threads=2,maxcpus=8"], arch: "x86_64")
        #expect(plan.entry["smp"] == ["cpus": 2, "maxcpus": 8, "sockets": 2, "threads": 2, "cores": 2])
    }

    @Test func fullTopologyIsLeftAlone() throws {
        let plan = try EmulatorPlan(arguments: CPUOptionTests.base + ["-smp", "1,sockets=1,cores=1,threads=1"], arch: "x86_64")
        #expect(plan.entry["smp"] == ["cpus": 1, "sockets": 1, "cores": 1, "threads": 1])
    }
}

/// `-vnc`: the display plugin's VNC server, with password auth as asked.
@Suite struct VNCOptionTests {
    @Test func passwordOnIsPasswordAuth() throws {
        let plan = try EmulatorPlan(arguments: CPUOptionTests.base + ["-vnc", "unix:/tmp/v.sock,password=on"], arch: "x86_64")
        #expect(plan.entry["plugins"]?["display"] == ["vnc": ["password": true]])
    }

    @Test func withoutPasswordTheServerHasNone() throws {
        let plan = try EmulatorPlan(arguments: CPUOptionTests.base + ["-vnc", "127.0.0.1:0"], arch: "x86_64")
        #expect(plan.entry["plugins"]?["display"] == ["vnc": ["password": false]])
        #expect(try EmulatorPlan(arguments: CPUOptionTests.base, arch: "x86_64").entry["plugins"]?["display"] == [:])
    }
}

/// `-smp` values that overflow or are not integers: QEMU's texts, no trap.
@Suite struct SMPExtremesTests {
    @Test func productOverflowLeavesTheCheckToTheVM() throws {
        let plan = try EmulatorPlan(arguments: CPUOptionTests.base + ["-smp", "maxcpus=4,sockets=4294967296,threads=4294967296"], arch: "x86_64")
        #expect(plan.entry["smp"]?["cores"] == 1)
        #expect {
            _ = try VMSpec.single(entry: plan.entry, source: "command line", config: FleetConfig())
        } throws: { "\($0)".contains("Invalid CPU topology: product of the hierarchy must match maxcpus") }
    }

    @Test func notAnInteger() {
        #expect {
            _ = try EmulatorPlan(arguments: CPUOptionTests.base + ["-smp", "18446744073709551616"], arch: "x86_64")
        } throws: { "\($0)" == "Parameter 'smp.cpus' expects integer" }
    }
}
