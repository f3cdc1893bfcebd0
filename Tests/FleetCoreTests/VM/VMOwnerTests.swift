@testable import FleetCore
import Logging
@testable import QMPFleetTesting
import QMPServer
import QMPWire
import Testing
import UVLoop

/// A shard stand-in: what a VM asks of its owner, recorded.
private final class RecordingOwner: VMOwner {
    let logger = Logger(label: "owner-test")
    let loop: EventLoop? = nil
    let clock = VirtualScheduler()
    var scheduler: any Scheduler { clock }
    var limits = Limits()
    let qemuVersion = QEMUVersion(major: 9, minor: 8, micro: 7, package: "owner")
    var allowedFiles: AllowedFiles { FleetConfig().allowedFiles }
    var greeting: [UInt8] { QMPMessage.greeting(version: qemuVersion) }
    let parserMemory = ParserMemoryBudget()
    let metrics = LoopMetrics()
    private var lastSessionID: UInt64 = 40
    func nextSessionID() -> UInt64 {
        lastSessionID += 1
        return lastSessionID
    }
    let simulatedDeviceTypes: Set<String> = []
    func writerLoop(forNewClientOf vm: VM) -> (index: Int, loop: EventLoop)? { nil }
    var ended: [(name: String, afterFlush: Bool)] = []
    func destroyVM(_ vm: VM, afterFlush: Bool) { ended.append((vm.name, afterFlush)) }
}

/// A VM reaches the shard that hosts it only through `VMOwner`: any owner
/// will do, and what the VM does to its surroundings goes through it.
@Suite struct VMOwnerTests {
    @Test func aVMLivesOnWhateverOwnsIt() throws {
        let owner = RecordingOwner()
        owner.limits.clientsPerVM = 1
        let table = try CommandTable(core: CoreCommands.loadSchema(), coreHandlers: CoreCommands.handlers, plugins: [], target: "x86_64")
        let vm = VM(spec: VMSpec(name: "alone"), owner: owner, table: table, creationSequence: 0)

        // The owner's clock runs the next turns: a session's turn ends after
        // 1 ms of real time, which a loaded machine takes in one request.
        let client = TestClient(nextTurn: { [weak clock = owner.clock] in clock?.advance(by: 0) })
        client.session = vm.attach(transport: client)
        #expect(client.session?.id == 41)
        // The owner's greeting and version.
        #expect(client.negotiate()?["QMP"]?["version"]?["qemu"]?["major"] == .int(9))
        #expect(client.call("query-version")?["return"]?["package"] == .string("owner"))

        // The owner's limit, counted on the owner's metrics.
        #expect(vm.attach(transport: TestClient()) == nil)
        #expect(owner.metrics.clientsAccepted == 1)
        #expect(owner.metrics.clientsRefusedAtLimit == 1)

        // quit ends the VM through its owner, after its reply is flushed.
        _ = client.execute("quit")
        #expect(owner.ended.map(\.name) == ["alone"])
        #expect(owner.ended.first?.afterFlush == true)
    }
}
