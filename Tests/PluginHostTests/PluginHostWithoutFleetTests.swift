import Foundation
import Logging
@testable import PluginHost
import QAPISchema
import QMPWire
import Testing
import UVLoop
#if canImport(Glibc)
import Glibc
#endif

/// The plugin host on its own: a real plugin (the balloon's, as built)
/// loaded, instantiated and called through PluginHost alone, on a VM that is
/// nothing but `PluginHostVM`. What the plugin asks of its VM through the
/// host table reaches that protocol and nothing else, so the fleet's VM is
/// one implementation of it and this is another.
@Suite(.serialized)
struct PluginHostWithoutFleetTests {
    /// The core schema the fleet checks plugins against, from the repository.
    static func coreSchema() throws -> SchemaModule {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("Sources/FleetCore/Resources/core-schema.json"), encoding: .utf8)
        return try SchemaModule(name: "core", expressions: try JSONValue(parsing: text))
    }

    static let loader: PluginLoader = {
        PluginLoader(searchPath: [PluginLoader.executableDirectory], core: try! coreSchema())
    }()

    /// Runs the command's handler on `instance`; its answer, which the
    /// balloon gives before the handler returns.
    static func call(_ instance: PluginInstance, _ command: String, _ arguments: JSONObject = [:]) -> Result<JSONValue, QMPError>? {
        guard let handler = instance.library.commandHandlers[command] else { return nil }
        var answer: Result<JSONValue, QMPError>?
        instance.invoke(handler, command: command, arguments: arguments) { answer = $0.result }
        return answer
    }

    @Test func aPluginRunsOnAnyPluginHostVM() throws {
        let library = try Self.loader.library(named: "balloon")
        #expect(library.schema.commandNames.contains("query-balloon"))
        #expect(library.deviceDrivers["virtio-balloon-pci"] != nil)

        let bare = RecordingVM()
        let without = PluginInstance(library: library, vm: bare)
        try without.create(configText: "{}")
        guard case .failure(let error)? = Self.call(without, "query-balloon") else {
            Issue.record("query-balloon without a balloon did not fail")
            return
        }
        #expect(error.errorClass == .deviceNotActive)
        without.destroy()

        // A balloon from config is realized on the VM through device_realized.
        let vm = RecordingVM()
        let instance = PluginInstance(library: library, vm: vm)
        try instance.create(configText: #"{"device": "balloon0"}"#)
        #expect(vm.realized == ["virtio-balloon-pci balloon0"])
        guard case .success(let answer)? = Self.call(instance, "query-balloon") else {
            Issue.record("query-balloon did not answer")
            return
        }
        // Its RAM from the VM's kind of machine's shared text (revision 9),
        // with no text of this VM's own made.
        #expect(answer["actual"]?.int64Value == 1 << 30)
        #expect(vm.wholeTextReads == 0)
        // The ids come apart: as many as asked, and the count.
        var ids = [Int64](repeating: 0, count: 4)
        #expect(HostAPI.table.pointee.vm_vcpu_thread_ids!(instance.handle, &ids, 1) == 2)
        #expect(ids == [4242, 0, 0, 0])
        #expect(HostAPI.table.pointee.vm_vcpu_thread_ids!(instance.handle, &ids, 4) == 2)
        #expect(ids == [4242, 4243, 0, 0])
        #expect(HostAPI.table.pointee.vm_vcpu_thread_ids!(instance.handle, nil, 0) == 2)
        instance.destroy()
        // An ended instance's handle finds nothing.
        #expect(PluginHandles.instance(for: instance.handle) == nil)
    }

    @Test func aLoadErrorNamesThePlugin() {
        do {
            _ = try Self.loader.library(named: "no-such-plugin")
            Issue.record("loaded a plugin that does not exist")
        } catch {
            #expect(error.description.hasPrefix("plugin 'no-such-plugin': libqmp-no-such-plugin.so not found in "))
        }
    }
}

/// A VM that is only what the plugin host may ask of one, and records what
/// the plugin did to it.
final class RecordingVM: PluginHostVM {
    let nameCString = ContiguousArray("vm0".utf8CString)
    let name = "vm0"
    let logger = Logger(label: "plugin-host-tests")
    let loop: EventLoop? = nil
    let scheduler: any Scheduler = ManualScheduler()
    let poolShare: PoolShare? = nil
    let pluginReplyTimeoutMilliseconds: UInt64 = 1_000
    let fdStallMilliseconds: UInt64 = 1_000
    /// Counts its reads: the kit reads the shared text and the ids instead.
    var machineJSONText: ContiguousArray<CChar> {
        wholeTextReads += 1
        return ContiguousArray(#"{"arch": "x86_64", "ram-size": 1073741824, "vcpu-thread-ids": [4242, 4243]}"#.utf8CString)
    }
    private(set) var wholeTextReads = 0
    let sharedMachineJSONText = ContiguousArray(#"{"arch": "x86_64", "ram-size": 1073741824, "vcpu-thread-ids": []}"#.utf8CString)
    let possibleVCPUCount = 2
    func vcpuThreadID(_ index: Int) -> Int { 4242 + index }
    let autostart = true
    private(set) var realized: [String] = []
    private(set) var events: [String] = []

    final class Times: PluginReplyTimer {
        var count = 0
        func record(nanoseconds: UInt64) { count += 1 }
    }
    let times = Times()

    func pluginPlacement(for library: PluginLibrary) -> PluginPlacement { PluginPlacement(library: library, replyTimes: times) }
    /// Never freed: `vm_run_state` hands out a pointer that must not dangle.
    nonisolated(unsafe) static let running = UnsafePointer(strdup("running")!)
    var runStateCString: UnsafePointer<CChar>? { Self.running }
    func pluginStop(reason: String?) {}
    func pluginSetRunState(named name: String) -> Bool { false }
    func pluginRequestedExit() {}
    func deviceReleased(idOrPath: String) {}
    func realizeConfiguredDevice(driver name: String, id: String, properties: JSONObject, owner: PluginLibrary) -> Result<Void, QMPError> {
        realized.append("\(name) \(id)")
        return .success(())
    }
    func openFile(_ path: String, flags: Int32, mode: mode_t) -> Result<Int32, QMPError> { .failure(.generic("no files here")) }
    func openFile(_ path: String, flags: Int32, mode: mode_t, then completion: @escaping (Result<Int32, QMPError>) -> Void) {
        completion(.failure(.generic("no files here")))
    }
    func offload(_ work: @escaping @Sendable () -> Void, then completion: @escaping () -> Void) {
        work()
        completion()
    }
    func saveDeviceState() -> Result<JSONValue, QMPError> { .failure(.generic("not migrating")) }
    func loadDeviceState(_ saved: JSONValue) -> Result<Void, QMPError> { .failure(.generic("not migrating")) }
    func emitPluginEvent(_ name: String, data: JSONObject?) { events.append(name) }
    func emitPluginEvent(_ name: String, encodedData: CanonicalJSON) { events.append(name) }
}

/// Time that never moves: what is scheduled is kept, and nothing here runs
/// it (the balloon's guest steps only towards a target, and none is set).
final class ManualScheduler: Scheduler {
    var nowMilliseconds: UInt64 = 0
    private(set) var pending: [(at: UInt64, action: () -> Void)] = []

    func schedule(afterMilliseconds delay: UInt64, _ action: @escaping () -> Void) -> ScheduledAction {
        pending.append((nowMilliseconds + delay, action))
        return ScheduledAction(cancel: {})
    }
}
