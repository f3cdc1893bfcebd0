@testable import FleetCore
import Foundation
import QMPFleetTesting
import QMPWire
import Testing

/// The host's half of live migration without a socket: one VM's device
/// state saved (each plugin's vm_save_state and the host's qdev/QOM
/// bookkeeping) and loaded into another, and the ABI's backward
/// compatibility (a plugin built before the migration members loads, and
/// migrates nothing of its own).
@Suite(.serialized) struct DeviceStateMigrationTests {
    static let vm = """
        machine: pc, memory: {size: 128M, slots: 2, maxmem: 1G}, smp: {cpus: 1, maxcpus: 2, sockets: 2, cores: 1, threads: 1},
        plugins: {block: {drives: [{id: drive0, device: virtio0, file: /tmp/qmpfleet-dsm.qcow2, format: qcow2, size: 1G, interface: virtio}]},
                  chardev: {serial: [{id: serial0, backend: ringbuf}]}, memory: {}, cpu-hotplug: {}}
        """
    static let queries = ["query-block", "query-named-block-nodes", "query-hotpluggable-cpus", "query-memory-devices", "query-memdev"]

    @Test func savedStateLoadsIntoAnotherVM() throws {
        let fleet = try TestFleet(yaml: "vms: [{name: a, \(Self.vm)}, {name: b, \(Self.vm)}]")
        let a = fleet.negotiatedClient(to: "a"), b = fleet.negotiatedClient(to: "b")
        #expect(a.result("object-add", ["qom-type": "memory-backend-ram", "id": "mem1", "size": 134_217_728]) == [:])
        #expect(a.result("device_add", ["driver": "pc-dimm", "id": "dimm1", "memdev": "mem1"]) == [:])
        #expect(a.result("chardev-add", ["id": "extra", "backend": ["type": "ringbuf", "data": [:]]])?["error"] == nil)
        let before = Self.queries.map { a.result($0) }
        #expect(Self.queries.map { b.result($0) } != before)

        let saved = try #require(try? fleet.vm("a")!.saveDeviceState().get())
        #expect(Set(saved["plugins"]?.objectValue?.keys.map { $0 } ?? []) == ["block", "chardev", "memory", "cpu-hotplug"])
        #expect((try? fleet.vm("b")!.loadDeviceState(saved).get()) != nil)
        #expect(Self.queries.map { b.result($0) } == before)
        let labels = b.result("query-chardev")?.arrayValue?.compactMap { $0["label"]?.stringValue }.sorted()
        #expect(labels == ["extra", "serial0"])
        // The host's bookkeeping came along: the DIMM and its backend are the target's now.
        let peripherals = b.result("qom-list", ["path": "/machine/peripheral"])?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        #expect(peripherals.contains("dimm1"))
        #expect(b.errorPair("object-del", ["id": "mem1"]) == ("GenericError", "object 'mem1' is in use, can not be deleted"))
    }

    @Test func aSectionTheTargetCannotLoadFailsAndChangesNothing() throws {
        let fleet = try TestFleet(yaml: "vms: [{name: a, \(Self.vm)}, {name: b, machine: pc, memory: 128M, plugins: {block: {}}}]")
        let b = fleet.negotiatedClient(to: "b")
        let before = b.result("query-block")
        let saved = try #require(try? fleet.vm("a")!.saveDeviceState().get())
        let result = fleet.vm("b")!.loadDeviceState(saved)
        guard case .failure(let error) = result else {
            Issue.record("loaded a state with sections the VM has no plugin for")
            return
        }
        #expect(error.desc.hasPrefix("Unknown savevm section or instance '"))
        #expect(b.result("query-block") == before)
        let newer: JSONValue = ["version": 2, "plugins": [:], "host": [:]]
        #expect((try? fleet.vm("b")!.loadDeviceState(newer).get()) == nil)
    }

    /// `saved` with `section`'s list `key` (in `plugins.PLUGIN` or `host`)
    /// replaced by what `change` makes of it.
    static func editing(_ saved: JSONValue, _ path: [String], _ change: ([JSONValue]) -> [JSONValue]) -> JSONValue {
        func edit(_ value: JSONValue?, _ path: ArraySlice<String>) -> JSONValue {
            guard let key = path.first else { return .array(change(value?.arrayValue ?? [])) }
            var object = value?.objectValue ?? [:]
            object[key] = edit(object[key], path.dropFirst())
            return .object(object)
        }
        return edit(saved, path[...])
    }

    /// A stream is input: what it brings is held to the bounds the commands
    /// keep to, and nothing changes on the target when it is not.
    @Test func aStreamBringingMoreThanTheBoundsFailsAndChangesNothing() throws {
        let fleet = try TestFleet(yaml: "limits: {devices-per-vm: 40, objects-per-vm: 8}\nvms: [{name: a, \(Self.vm)}, {name: b, \(Self.vm)}]")
        let b = fleet.negotiatedClient(to: "b")
        let saved = try #require(try? fleet.vm("a")!.saveDeviceState().get())
        let before = Self.queries.map { b.result($0) } + [b.result("query-chardev")]
        func refusal(_ state: JSONValue) -> String? {
            guard case .failure(let error) = fleet.vm("b")!.loadDeviceState(state) else { return nil }
            return error.desc
        }
        let device = try #require(saved["host"]?["devices"]?.arrayValue?.first?.objectValue)
        let manyDevices = Self.editing(saved, ["host", "devices"]) { devices in
            devices + (0..<40).map { i in
                var copy = device
                copy["id"] = .string("extra\(i)")
                copy["qom-path"] = .string("/machine/peripheral/extra\(i)")
                return .object(copy)
            }
        }
        #expect(refusal(manyDevices)?.hasPrefix("the incoming state holds") == true)
        let twice = Self.editing(saved, ["host", "devices"]) { $0 + [.object(device)] }
        #expect(refusal(twice)?.contains("twice") == true || refusal(twice)?.contains("two devices") == true)
        let objects = Self.editing(saved, ["host", "objects"]) { _ in
            (0..<9).map { ["id": .string("o\($0)"), "type": "secret", "owner": "block", "properties": [:]] }
        }
        #expect(refusal(objects) == "the incoming state holds 9 objects, more than the 8 of objects-per-vm")

        let node = try #require(saved["plugins"]?["block"]?["nodes"]?.arrayValue?.first?.objectValue)
        let manyNodes = Self.editing(saved, ["plugins", "block", "nodes"]) { _ in
            (0...1024).map { i in
                var copy = node
                copy["name"] = .string("n\(i)")
                return .object(copy)
            }
        }
        #expect(refusal(manyNodes)?.hasSuffix("block: the incoming state holds 1025 block nodes, more than the 1024 a VM may hold") == true)
        let sameNode = Self.editing(saved, ["plugins", "block", "nodes"]) { $0 + [.object(node)] }
        #expect(refusal(sameNode)?.contains("block: the incoming state names node '") == true)

        let chardev = try #require(saved["plugins"]?["chardev"]?["chardevs"]?.arrayValue?.first)
        let sameChardev = Self.editing(saved, ["plugins", "chardev", "chardevs"]) { $0 + [chardev] }
        #expect(refusal(sameChardev)?.contains("chardev: the incoming state names chardev '") == true)
        let manyPorts = Self.editing(saved, ["plugins", "chardev", "ports"]) { _ in
            (0...1024).map { ["id": .string("p\($0)"), "bus": "vs.0", "driver": "virtserialport"] }
        }
        #expect(refusal(manyPorts)?.contains("chardev: the incoming state holds 1025 virtio-serial ports") == true)

        let manyBackends = Self.editing(saved, ["plugins", "memory", "backends"]) { _ in
            (0...1024).map { ["id": .string("m\($0)"), "qom-type": "memory-backend-ram", "props": ["size": 1_048_576]] }
        }
        #expect(refusal(manyBackends)?.contains("memory: the incoming state holds 1025 memory backends") == true)

        #expect(Self.queries.map { b.result($0) } + [b.result("query-chardev")] == before)
    }

    /// A bitmap's dirty ranges, in whatever order the stream lists them,
    /// load as one set (made in one sort: inserted one by one, a long list
    /// in descending order took quadratic time on the VM's loop).
    @Test func dirtyRangesInAnyOrderLoadAsOneSet() throws {
        let fleet = try TestFleet(yaml: "vms: [{name: a, \(Self.vm)}, {name: b, \(Self.vm)}]")
        let a = fleet.negotiatedClient(to: "a"), b = fleet.negotiatedClient(to: "b")
        let node = try #require(a.result("query-named-block-nodes")?.arrayValue?.first?["node-name"]?.stringValue)
        #expect(a.result("block-dirty-bitmap-add", ["node": .string(node), "name": "bm0", "granularity": 65536]) == [:])
        let saved = try #require(try? fleet.vm("a")!.saveDeviceState().get())
        let ranges: [JSONValue] = (0..<5_000).reversed().map { i in [.int(Int64(i) * 2), .int(Int64(i) * 2 + 1)] }
        let state = Self.editing(saved, ["plugins", "block", "nodes"]) { nodes in
            nodes.map { entry in
                guard var object = entry.objectValue, object["name"]?.stringValue == node,
                      var bitmap = object["bitmaps"]?.arrayValue?.first?.objectValue else { return entry }
                bitmap["dirty"] = .array(ranges + [[0, 1], [1, 2]])
                object["bitmaps"] = [.object(bitmap)]
                return .object(object)
            }
        }
        #expect((try? fleet.vm("b")!.loadDeviceState(state).get()) != nil)
        let bitmap = b.result("query-block")?.arrayValue?.compactMap { $0["inserted"]?["dirty-bitmaps"]?.arrayValue?.first }.first
        // 5,000 chunks of 64 KiB (ranges count chunks), and the one between the first two the list adds.
        let count: Int64? = bitmap?["count"]?.int64Value
        let expected: Int64 = 5_001 * 65_536
        #expect(count == expected)
    }

    /// A plugin built against the header before the migration members:
    /// its descriptor is `QMP_PLUGIN_DESCRIPTOR_BASE_SIZE` long.
    static let oldPlugin = """
        #include <qmp_plugin.h>
        static int init(const qmp_host_api *host, qmp_plugin_ctx *ctx, char *err, size_t len) { return 0; }
        static int create(qmp_vm *vm, const char *c, size_t l, void **instance, char *err, size_t len) { *instance = (void *)1; return 0; }
        static void destroy(void *instance) {}
        static qmp_plugin_descriptor d = {QMP_PLUGIN_ABI_VERSION, 0, "old", "1.0", init, create, destroy, 0, 0};
        __attribute__((visibility("default"))) const qmp_plugin_descriptor *qmp_plugin_entry(void) {
            d.struct_size = QMP_PLUGIN_DESCRIPTOR_BASE_SIZE;
            return &d;
        }
        """

    @Test func aPluginBuiltBeforeTheHooksLoadsAndMigratesNothing() throws {
        let dir = PluginLoaderTests.makeDir()
        try PluginLoaderTests.buildPlugin("old", source: Self.oldPlugin, in: dir)
        let fleet = try TestFleet(yaml: "vms: [{name: a, plugins: [old]}, {name: b, plugins: [old]}]", pluginDirectories: [dir])
        let saved = try #require(try? fleet.vm("a")!.saveDeviceState().get())
        #expect(saved["plugins"] == [:])
        #expect((try? fleet.vm("b")!.loadDeviceState(saved).get()) != nil)
    }
}
