import FleetCore
import QMPFleetTesting
import QMPWire
import Testing

/// QEMU's rate limiting: first event at once, the last of a window at its end.
struct EventThrottleTests {
    private func makeThrottle() -> (EventThrottle, VirtualScheduler, Box) {
        let clock = VirtualScheduler()
        let sent = Box()
        return (EventThrottle(scheduler: clock), clock, sent)
    }

    final class Box { var items: [String] = [] }

    private func submit(_ t: EventThrottle, _ name: String, _ tag: String, data: JSONObject? = nil, into box: Box) {
        t.submit(event: name, data: data, bytes: Array(tag.utf8)) { box.items.append(String(decoding: $0, as: UTF8.self)) }
    }

    @Test func unthrottledEventsPassAtOnce() {
        let (t, _, box) = makeThrottle()
        for i in 0..<5 { submit(t, "STOP", "s\(i)", into: box) }
        #expect(box.items == ["s0", "s1", "s2", "s3", "s4"])
    }

    @Test func firstGoesNowLastOfWindowAtItsEnd() {
        let (t, clock, box) = makeThrottle()
        submit(t, "RTC_CHANGE", "a", into: box)
        submit(t, "RTC_CHANGE", "b", into: box)
        submit(t, "RTC_CHANGE", "c", into: box)
        #expect(box.items == ["a"])
        clock.advance(by: 999)
        #expect(box.items == ["a"])
        clock.advance(by: 1)
        #expect(box.items == ["a", "c"])
        // The held event opened a new window: the next one waits again.
        submit(t, "RTC_CHANGE", "d", into: box)
        #expect(box.items == ["a", "c"])
        clock.advance(by: 1000)
        #expect(box.items == ["a", "c", "d"])
        // A quiet window closes without sending anything; then events pass at once.
        clock.advance(by: 1000)
        submit(t, "RTC_CHANGE", "e", into: box)
        #expect(box.items == ["a", "c", "d", "e"])
    }

    @Test func keyedEventsAreThrottledPerKey() {
        let (t, clock, box) = makeThrottle()
        submit(t, "VSERPORT_CHANGE", "p1-open", data: ["id": "p1", "open": true], into: box)
        submit(t, "VSERPORT_CHANGE", "p2-open", data: ["id": "p2", "open": true], into: box)
        submit(t, "VSERPORT_CHANGE", "p1-close", data: ["id": "p1", "open": false], into: box)
        #expect(box.items == ["p1-open", "p2-open"])
        clock.advance(by: 1000)
        #expect(box.items == ["p1-open", "p2-open", "p1-close"])
    }
}
