import QMPWire
import UVLoop

/// QEMU's event rate limiting (monitor/monitor.c, `monitor_qapi_event_queue`).
///
/// Some events can fire in storms (the guest rewriting its RTC, a balloon
/// driver reporting every page). For those QEMU sends the first one at once,
/// then at most one per period: an event arriving inside the window replaces
/// any held one, and the held one goes out when the window closes, which
/// opens a new window. Some events are keyed by a data member, so that a
/// storm on one device does not hide another device's events.
public final class EventThrottle {
    /// Which events are limited, their period, and the data member that keys them.
    public struct Rule: Sendable {
        public var periodMilliseconds: UInt64
        public var keyMember: String?
    }

    /// QEMU 7.2's table (`monitor_qapi_event_conf` and `qapi_event_throttle_equal`).
    public static let qemuRules: [String: Rule] = [
        "RTC_CHANGE": Rule(periodMilliseconds: 1000, keyMember: nil),
        "WATCHDOG": Rule(periodMilliseconds: 1000, keyMember: nil),
        "BALLOON_CHANGE": Rule(periodMilliseconds: 1000, keyMember: nil),
        "QUORUM_REPORT_BAD": Rule(periodMilliseconds: 1000, keyMember: "node-name"),
        "QUORUM_FAILURE": Rule(periodMilliseconds: 1000, keyMember: nil),
        "VSERPORT_CHANGE": Rule(periodMilliseconds: 1000, keyMember: "id"),
        "MEMORY_DEVICE_SIZE_CHANGE": Rule(periodMilliseconds: 1000, keyMember: "qom-path"),
    ]

    private struct Key: Hashable {
        var event: String
        var discriminator: String?
    }

    /// An open window: its timer and the event held for its end, if any.
    private final class Window {
        var held: [UInt8]?
        var timer: ScheduledAction?
    }

    private let rules: [String: Rule]
    private let scheduler: any Scheduler
    private var windows: [Key: Window] = [:]

    public init(scheduler: any Scheduler, rules: [String: Rule] = EventThrottle.qemuRules) {
        self.scheduler = scheduler
        self.rules = rules
    }

    /// Whether `event`'s window is keyed by a member of its data (then
    /// `submit` needs the data).
    public func isKeyed(_ event: String) -> Bool { rules[event]?.keyMember != nil }

    /// Passes `bytes` (the serialized event) to `send` now, later, or never
    /// (replaced by a later one), as QEMU would.
    public func submit(event: String, data: JSONObject?, bytes: [UInt8], send: @escaping ([UInt8]) -> Void) {
        guard let rule = rules[event] else {
            send(bytes)
            return
        }
        let key = Key(event: event, discriminator: rule.keyMember.flatMap { data?[$0]?.stringValue })
        if let window = windows[key] {
            window.held = bytes
            return
        }
        send(bytes)
        openWindow(key, rule: rule, send: send)
    }

    private func openWindow(_ key: Key, rule: Rule, send: @escaping ([UInt8]) -> Void) {
        let window = Window()
        windows[key] = window
        window.timer = scheduler.schedule(afterMilliseconds: rule.periodMilliseconds) { [weak self] in
            guard let self else { return }
            self.windows[key] = nil
            if let held = window.held {
                send(held)
                self.openWindow(key, rule: rule, send: send)
            }
        }
    }

    /// Drops every held event and timer (the VM is going away).
    public func cancelAll() {
        for window in windows.values { window.timer?.cancel() }
        windows.removeAll()
    }
}
