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
