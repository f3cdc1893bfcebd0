#if canImport(Glibc)
import Glibc
#endif
import Testing
import UVLoop

/// Not part of the suite: a sanity measurement of the echo round-trip rate
/// between two connections on one loop. Run with
/// `UVLOOP_MEASURE=1 swift test --filter EchoRateMeasurement`.
@Suite(.serialized, .enabled(if: getenv("UVLOOP_MEASURE") != nil))
struct EchoRateMeasurement {
    /// How long each measurement runs.
    static let durationMilliseconds: UInt64 = 1000

    /// Round trips per second with `inFlight` messages outstanding.
    static func measure(inFlight: Int) throws -> Double {
        let loop = try EventLoop()
        let path = LoopHarness.socketPath("rate\(inFlight)")
        let listener = try UnixListener(loop: loop, path: path) { connection in
            connection.onBytes = { connection.write(Array($0)) }
        }
        defer { withExtendedLifetime(listener) {} }
        return try clientRate(loop: loop, path: path, inFlight: inFlight)
    }

    /// Ping-pong with the echoing side on a loop of its own, on another
    /// thread: every round trip then pays two cross-thread wake-ups.
    static func measureAcrossThreads() throws -> Double {
        let serverLoop = try EventLoop()
        let path = LoopHarness.socketPath("ratex")
        let listener = try UnixListener(loop: serverLoop, path: path) { connection in
            connection.onBytes = { connection.write(Array($0)) }
            connection.onClose = { serverLoop.stop() }
        }
        defer { withExtendedLifetime(listener) {} }
        EventLoopTests.spawn {
            LoopHarness.run(serverLoop, deadline: durationMilliseconds * 3)
        }
        return try clientRate(loop: try EventLoop(), path: path, inFlight: 1)
    }

    /// The client side of both: connects on `loop` to the echo server at
    /// `path`, keeps `inFlight` messages outstanding for
    /// `durationMilliseconds` and returns the round trips per second.
    static func clientRate(loop: EventLoop, path: String, inFlight: Int) throws -> Double {
        let client = try UnixConnection.connect(loop: loop, path: path)
        let message = Array(#"{"execute": "query-status"}"#.utf8) + [10]
        var roundTrips = 0
        var pendingBytes = 0
        client.onBytes = { bytes in
            pendingBytes += bytes.count
            while pendingBytes >= message.count {
                pendingBytes -= message.count
                roundTrips += 1
                client.write(message)
            }
        }
        let start = loop.nowMilliseconds
        for _ in 0..<inFlight { client.write(message) }
        let end = LoopTimer(loop: loop)
        end.start(afterMilliseconds: durationMilliseconds) { loop.stop() }
        LoopHarness.run(loop, deadline: durationMilliseconds * 3)
        let elapsed = Double(loop.nowMilliseconds - start) / 1000
        return Double(roundTrips) / elapsed
    }

    @Test func echoRoundTripRateAcrossThreads() throws {
        let rate = try Self.measureAcrossThreads()
        print("UVLoop echo, 1 in flight, server on another thread: \(Int(rate)) round trips/s")
        #expect(rate > 1000)
    }

    @Test func echoRoundTripRate() throws {
        for inFlight in [1, 16] {
            let rate = try Self.measure(inFlight: inFlight)
            print("UVLoop echo, \(inFlight) in flight: \(Int(rate)) round trips/s")
            // Sane means far above anything a QMP client needs.
            #expect(rate > 1000)
        }
    }
}
