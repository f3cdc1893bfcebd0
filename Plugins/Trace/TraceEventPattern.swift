/// A `name` argument of trace-event-get/set-state: an exact event name, or a
/// pattern when it contains `*` (QEMU's `pattern_glob` in trace/control.c:
/// only `*` is special, it matches any run of characters, `?` is literal).
struct TraceEventPattern {
    let text: [UInt8]
    let isPattern: Bool

    init(_ name: String) {
        text = Array(name.utf8)
        isPattern = text.contains(UInt8(ascii: "*"))
    }

    func matches(_ name: String) -> Bool {
        let event = Array(name.utf8)
        return TraceEventPattern.glob(text[...], event[...])
    }

    /// Iterative wildcard match with backtracking to the last `*`: the same
    /// answers as QEMU's recursive `pattern_glob`, without its exponential cost.
    private static func glob(_ pattern: ArraySlice<UInt8>, _ event: ArraySlice<UInt8>) -> Bool {
        let star = UInt8(ascii: "*")
        var p = pattern.startIndex, e = event.startIndex
        var starAt: Int? = nil, resumeAt = e
        while e < event.endIndex {
            if p < pattern.endIndex, pattern[p] == star {
                starAt = p
                p += 1
                resumeAt = e
            } else if p < pattern.endIndex, pattern[p] == event[e] {
                p += 1
                e += 1
            } else if let s = starAt {
                p = s + 1
                resumeAt += 1
                e = resumeAt
            } else {
                return false
            }
        }
        while p < pattern.endIndex, pattern[p] == star { p += 1 }
        return p == pattern.endIndex
    }
}
