import Testing
@testable import UVLoop

/// One turn's events are copied once and handed out as ranges; the buffer
/// empties when the last holder lets go.
struct TurnEventBufferTests {
    @Test func theSameEventIsCopiedOnceAndTheNextFollowsIt() {
        let buffer = TurnEventBuffer()
        let stop = Array(#"{"event": "STOP"}"#.utf8)
        let resume = Array(#"{"event": "RESUME"}"#.utf8)
        let first = buffer.range(of: stop)
        buffer.hold()
        #expect(first == 0..<stop.count)
        // The next client: the same array, the same range.
        #expect(buffer.range(of: stop) == first)
        // Equal bytes in another array are another event.
        let again = stop.map { $0 }
        #expect(buffer.range(of: again) == stop.count..<2 * stop.count)
        #expect(buffer.range(of: resume) == 2 * stop.count..<2 * stop.count + resume.count)
        #expect(buffer.copy(0..<stop.count) == stop)
        #expect(buffer.copy(2 * stop.count..<2 * stop.count + resume.count) == resume)
    }

    @Test func theLastReleaseEmptiesTheBuffer() {
        let buffer = TurnEventBuffer()
        let event = Array("x".utf8)
        _ = buffer.range(of: event)
        buffer.hold()
        buffer.hold()
        buffer.release()
        #expect(buffer.range(of: event) == 0..<1)
        buffer.release()
        // Emptied: the same array is copied in afresh, at the start.
        let other = Array("yz".utf8)
        #expect(buffer.range(of: other) == 0..<2)
    }

    @Test func anEventPastTheLimitIsNotTaken() {
        let buffer = TurnEventBuffer()
        #expect(buffer.range(of: []) == nil)
        let big = [UInt8](repeating: 0x20, count: TurnEventBuffer.byteLimit + 1)
        #expect(buffer.range(of: big) == nil)
        let half = [UInt8](repeating: 0x20, count: TurnEventBuffer.byteLimit / 2 + 1)
        #expect(buffer.range(of: half) != nil)
        buffer.hold()
        #expect(buffer.range(of: half.map { $0 }) == nil)
    }
}
