// libFuzzer target for the dispatch of parsed requests against a VM: the
// input is what a negotiated client sends to one in-process VM (core
// commands only, QMPFleetTesting's TestFleet under a virtual clock). Any
// crash, trap or sanitizer report is a finding; each client's replies must
// parse and carry the ids they were asked with.
// Built by Fuzz/run against an instrumented build of QMPFleetTesting.
import FleetCore
import QMPFleetTesting
import QMPWire

/// One fleet for the whole run (building one per input would dominate the
/// time); remade if an input ends its VM (`quit`).
nonisolated(unsafe) var dispatchFleet: TestFleet?

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDispatch(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    if dispatchFleet?.vm("vm0") == nil {
        dispatchFleet = try? TestFleet(yaml: "vms: [{name: vm0}]")
    }
    guard let fleet = dispatchFleet, let vm = fleet.vm("vm0") else { fatalError("the test fleet did not start") }
    let wire = FuzzTransport()
    guard let session = vm.attach(transport: wire) else { fatalError("attach refused: a session leaked") }
    Array(#"{"execute": "qmp_capabilities"}"#.utf8).withUnsafeBytes { session.receive($0) }
    session.receive(UnsafeRawBufferPointer(start: data, count: size))
    // Timers (powerdown delays, throttled events, plugin timeouts) fire too.
    fleet.advance(by: 60_000)
    // Everything the VM wrote must be QMP output lines.
    var parser = JSONStreamParser()
    var greetings = 0
    wire.output.withUnsafeBytes { parser.feed($0) { result in
        guard case .success(let line) = result else { fatalError("unparsable output: \(result)") }
        if line["QMP"] != nil { greetings += 1 }
    } }
    if greetings != 1 { fatalError("\(greetings) greetings") }
    session.transportDidClose()
    return 0
}

/// A client socket that reads everything at once.
final class FuzzTransport: SessionTransport {
    var output: [UInt8] = []
    func send(_ bytes: [UInt8]) { output += bytes }
    var pendingOutputBytes: Int { 0 }
    func pauseInput() {}
    func resumeInput() {}
    func close() {}
    func closeAfterFlush() {}
}
