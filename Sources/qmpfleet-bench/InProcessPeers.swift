import Foundation
import QMPWire

/// Peers measured inside the benchmark's own process, without sockets:
/// what the same work costs in plain Swift, so a fleet figure can be read
/// as a share of the machine's limit rather than of QEMU's.
enum InProcessPeers {
    /// `query-status`'s reply value, as the fleet answers a running VM.
    private static let statusReply: JSONValue = .object(["status": .string("running"), "singlestep": .bool(false), "running": .bool(true)])

    /// Requests per second of a parse → look up → reply loop over `batch`
    /// copies of `line` in one buffer: QMPWire's stream parser, QMPRequest,
    /// and QMPMessage's reply appended to one output buffer. The socket and
    /// session costs of the fleet are what this leaves out. The best of
    /// batches taken for `seconds`.
    static func parseReplyLoop(request line: [UInt8], batch: Int, seconds: Double = 0.2) -> Double {
        let input = Array([[UInt8]](repeating: line, count: batch).joined())
        var parser = JSONStreamParser()
        var output: [UInt8] = []
        output.reserveCapacity(batch * 64)
        var best = 0.0
        var answered = 0
        let start = Date()
        while Date().timeIntervalSince(start) < seconds {
            let t = DispatchTime.now().uptimeNanoseconds
            parser.feed(input) { result in
                guard case .success(let value) = result, case .success(let request) = QMPRequest.decode(value, oobEnabled: false) else { return }
                if request.execute == "query-status" {
                    output.append(contentsOf: QMPMessage.success(statusReply, id: request.id))
                } else {
                    output.append(contentsOf: QMPMessage.failure(.commandNotFound(request.execute), id: request.id))
                }
                answered &+= 1
            }
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9
            best = max(best, Double(batch) / elapsed)
            output.removeAll(keepingCapacity: true)
        }
        precondition(answered > 0)
        return best
    }

    /// A command table's entry, as FleetCore's `CommandDispatch` keeps
    /// one per name (a class: the lookup hands a reference).
    private final class Entry: Sendable {
        let reply: JSONValue
        init(reply: JSONValue) { self.reply = reply }
    }

    /// What `fleetPathLoop`'s requests change, held as a `Session` holds
    /// its parser, reply cache and output: fields of a class whose
    /// exclusivity is not checked at run time. Captured `var`s of a
    /// function were checked on every access (15 % of session 8's
    /// profile of this row), a cost the session does not have.
    private final class PathState {
        @exclusivity(unchecked) var parser = JSONStreamParser()
        @exclusivity(unchecked) var cache = QMPReplyCache()
        @exclusivity(unchecked) var output: [UInt8] = []
        @exclusivity(unchecked) var answered = 0
        /// A table of the size of the `pc` VM's (QEMU 7.2 has about 230
        /// commands), kept as a VM keeps its own (an instance's, not a
        /// global's, which cost a `swift_once` per use) and looked up as
        /// `CommandDispatch`'s is (a `CommandNameTable`).
        let commandNames = CommandNameTable((0..<229).map { "x-command-\($0)" } + ["query-status"])
        let commandEntries = (0..<229).map { _ in Entry(reply: .object([:])) } + [Entry(reply: statusReply)]

        /// A recognised request's name as a session takes it from its
        /// host (`SessionHost.command(named:)`: the stored name and number).
        func command(named bytes: UnsafeBufferPointer<UInt8>) -> (number: Int, name: String)? {
            commandNames.entry(bytes: bytes)
        }

        /// The request run as `CommandDispatch.resolve` finds it: by the
        /// number it came with, checked, or else by name.
        func answer(_ name: String, number hint: Int? = nil, id: JSONValue?) {
            if let number = commandNames.number(of: name, hint: hint) {
                output.append(contentsOf: cache.success(commandEntries[number].reply, id: id))
            } else {
                output.append(contentsOf: QMPMessage.failure(.commandNotFound(name), id: id))
            }
            answered &+= 1
        }
    }

    /// Requests per second of the fleet's own per-request path over
    /// `batch` copies of `line` in one buffer, in process: the framing a
    /// `Session` calls (`JSONStreamParser.feedRequests`, whose
    /// `QMPRequestScanner` recognises the request in the buffer), the
    /// name found by its bytes in a `CommandNameTable` of the `pc` VM's
    /// size as the session asks its host, the number checked as
    /// `CommandDispatch.resolve` takes it,
    /// and the session's reply cache (`QMPReplyCache`, which keeps
    /// `query-status`'s line) appended to one output buffer. A request the
    /// scanner leaves goes the full way, as in the session. Left out: the
    /// session's queue and turn clock, the `CommandCall` and its closures,
    /// argument check, metrics, history, the socket. The best of batches
    /// taken for `seconds`.
    static func fleetPathLoop(request line: [UInt8], batch: Int, seconds: Double = 0.2) -> Double {
        let input = Array([[UInt8]](repeating: line, count: batch).joined())
        let state = PathState()
        state.output.reserveCapacity(batch * 128)
        var best = 0.0
        let start = Date()
        while Date().timeIntervalSince(start) < seconds {
            let t = DispatchTime.now().uptimeNanoseconds
            _ = input.withUnsafeBytes { raw in
                state.parser.feedRequests(raw, request: { scanned in
                    if let (number, name) = state.command(named: scanned.nameBytes) {
                        state.answer(name, number: number, id: scanned.idValue)
                    } else {
                        state.answer(scanned.name, id: scanned.idValue)
                    }
                    return true
                }, message: { result, _ in
                    guard case .success(let value) = result, case .success(let request) = QMPRequest.decode(value, oobEnabled: false) else { return true }
                    state.answer(request.execute, id: request.id)
                    return true
                })
            }
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9
            best = max(best, Double(batch) / elapsed)
            state.output.removeAll(keepingCapacity: true)
        }
        precondition(state.answered > 0)
        return best
    }

    /// Bytes per second of a plain byte-at-a-time Swift scan for the end of
    /// a JSON string (the next `"`, `\` or control byte) over `text`: the
    /// peer of a large string argument. The best of scans taken for `seconds`.
    static func plainStringScan(_ text: [UInt8], seconds: Double = 0.2) -> Double {
        var best = 0.0
        var sink = 0
        let start = Date()
        text.withUnsafeBufferPointer { bytes in
            while Date().timeIntervalSince(start) < seconds {
                let t = DispatchTime.now().uptimeNanoseconds
                var i = 0
                while i < bytes.count {
                    let c = bytes[i]
                    if c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") || c < 0x20 { break }
                    i += 1
                }
                sink &+= i
                let elapsed = Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9
                best = max(best, Double(bytes.count) / elapsed)
            }
        }
        precondition(sink > 0)
        return best
    }

    /// Seconds QMPWire's stream parser takes for `message` (one request),
    /// in process: the best of parses taken for `seconds`.
    static func parseOnce(_ message: [UInt8], seconds: Double = 0.3) -> Double {
        var parser = JSONStreamParser(limits: JSONLimits.qemu)
        var best = Double.infinity
        var parsed = 0
        let start = Date()
        while Date().timeIntervalSince(start) < seconds {
            let t = DispatchTime.now().uptimeNanoseconds
            parser.feed(message) { if case .success = $0 { parsed &+= 1 } }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9)
        }
        precondition(parsed > 0)
        return best
    }
}
