@testable import QMPPluginKit
import QMPWire
import Testing

/// The host's machine description is parsed whole once per kind of
/// machine; the VMs of that kind differ in their vCPU thread ids only,
/// and each gets its own.
@Suite struct MachineDescriptionCacheTests {
    final class Counter: @unchecked Sendable { var count = 0 }

    /// The text FleetCore writes for a pc with `-smp 2,maxcpus=3`, with `ids`.
    static func text(_ ids: String, ram: Int = 134217728) -> String {
        #"{"type": "pc-i440fx-7.2", "arch": "x86_64", "ram-size": \#(ram), "memory-slots": 0, "max-memory": 0, "kvm": false, "#
            + #""cpu-model": null, "vcpu-thread-ids": [\#(ids)], "smp": {"cpus": 2, "sockets": 3, "cores": 1, "threads": 1, "#
            + #""maxcpus": 3}, "qemu-version": {"major": 7, "minor": 2, "micro": 0}}"#
    }

    static func machine(_ cache: MachineDescriptionCache, _ text: String, _ parses: Counter) -> PluginVM.Machine {
        Array(text.utf8).withUnsafeBytes { bytes in
            cache.machine(of: bytes) { whole in
                parses.count += 1
                return PluginVM.Machine(description: (try? JSONValue(parsing: whole)) ?? .object([:]))
            }
        }
    }

    @Test func onlyTheThreadIDsAreReadAgain() {
        let cache = MachineDescriptionCache()
        let parses = Counter()
        let first = Self.machine(cache, Self.text("1001, 1002, 1003"), parses)
        let second = Self.machine(cache, Self.text("2025, 2026, 2027"), parses)
        #expect(parses.count == 1)
        #expect(first.vcpuThreadIDs == [1001, 1002, 1003])
        #expect(second.vcpuThreadIDs == [2025, 2026, 2027])
        var expected = first
        expected.vcpuThreadIDs = [2025, 2026, 2027]
        #expect(second == expected)
        #expect(second == PluginVM.Machine(description: try! JSONValue(parsing: Self.text("2025, 2026, 2027"))))
        // Another machine around the ids is parsed whole.
        let larger = Self.machine(cache, Self.text("7", ram: 1 << 30), parses)
        #expect(parses.count == 2)
        #expect(larger.ramSize == 1 << 30 && larger.vcpuThreadIDs == [7])
        #expect(Self.machine(cache, Self.text("", ram: 1 << 30), parses).vcpuThreadIDs == [])
        #expect(parses.count == 2)
    }

    @Test func idsTheQuickReadingDoesNotTakeAreParsedWhole() {
        let cache = MachineDescriptionCache()
        let parses = Counter()
        _ = Self.machine(cache, Self.text("1, 2, 3"), parses)
        for odd in ["1.5, 2, 3", "01, 2, 3", "1,, 3", "1, 2,", "9223372036854775808, 1, 1", "\"1\", 2, 3", "-"] {
            let before = parses.count
            let machine = Self.machine(cache, Self.text(odd), parses)
            #expect(parses.count == before + 1, "\(odd)")
            if let whole = try? JSONValue(parsing: Self.text(odd)) {
                #expect(machine == PluginVM.Machine(description: whole), "\(odd)")
            }
        }
        #expect(Self.machine(cache, Self.text("-4, 0, 9223372036854775807"), parses).vcpuThreadIDs == [-4, 0, .max])
    }

    @Test func aTextWithoutTheArrayOrWithItTwiceIsParsedWhole() {
        let cache = MachineDescriptionCache()
        let parses = Counter()
        let bare = #"{"type": "virt-7.2", "arch": "aarch64"}"#
        #expect(Self.machine(cache, bare, parses).type == "virt-7.2")
        #expect(Self.machine(cache, bare, parses).type == "virt-7.2")
        #expect(parses.count == 2)
        let twice = #"{"x": {"vcpu-thread-ids": [5]}, "vcpu-thread-ids": [1]}"#
        #expect(Self.machine(cache, twice, parses).vcpuThreadIDs == [1])
        #expect(Self.machine(cache, twice, parses).vcpuThreadIDs == [1])
        #expect(parses.count == 4)
        // The key quoted inside a string is escaped: not the array.
        let inString = #"{"cpu-model": "\"vcpu-thread-ids\": [9]", "vcpu-thread-ids": [3]}"#
        #expect(Self.machine(cache, inString, parses).vcpuThreadIDs == [3])
        #expect(Self.machine(cache, inString, parses).cpuModel == #""vcpu-thread-ids": [9]"#)
    }
}
