import SharedValues
#if canImport(Glibc)
import Glibc
#endif

/// The machine descriptions a plugin's instances read (`PluginVM.machine`),
/// each parsed once per kind of VM.
///
/// The host's text (`vm_machine_json`) of the VMs of one template differs
/// only in `vcpu-thread-ids`: the host thread ids of the VM's vCPUs, which
/// follow from its place in creation order. Seven plugins parsing it for
/// each of 10,000 VMs was 7 % of making them. So the kit keeps, for a few
/// texts, the bytes before that array and after it with the `Machine`
/// they gave; a text with the same bytes around its array takes that
/// `Machine` and only its ids are read. The ABI is unchanged: any host's
/// text works, and one the quick reading does not recognise (no such
/// array, or not one of plain integers) is parsed whole, as before.
///
/// One per plugin library (the kit's globals are each image's own). Loop
/// threads create instances in parallel: the kinds are kept in a
/// `RecentValues`, the most recent first.
final class MachineDescriptionCache: Sendable {
    /// A text's bytes around its ids: what identifies its kind.
    private struct Kind: Sendable, Equatable {
        let prefix: [UInt8]
        let suffix: [UInt8]
    }

    /// Texts kept: more than a fleet's kinds of machine usually are (a
    /// kind is a board, CPU and memory layout; a ninth is parsed whole).
    static let capacity = 8

    private let entries = RecentValues<Kind, PluginVM.Machine>(capacity: MachineDescriptionCache.capacity)

    /// `PluginVM.Machine` of the host's text, parsed whole only the first
    /// time its bytes around `vcpu-thread-ids` are seen.
    func machine(of text: UnsafeRawBufferPointer, parse: (UnsafeRawBufferPointer) -> PluginVM.Machine) -> PluginVM.Machine {
        // A kind already read: the text is a kept entry's prefix and suffix
        // around a list of integers. Searching the whole text for the key
        // first (a `memchr` and compare at each of its ~40 quotes) was 2.9 k
        // of the 4.5 k instructions of each of a VM's four readings.
        if let known = entries.first(where: { Self.encloses(text, $0.prefix, $0.suffix) }),
           let ids = Self.integers(in: UnsafeRawBufferPointer(rebasing: text[known.key.prefix.count..<(text.count - known.key.suffix.count)])) {
            var machine = known.value
            machine.vcpuThreadIDs = ids
            return machine
        }
        guard let span = Self.threadIDSpan(in: text), let ids = Self.integers(in: UnsafeRawBufferPointer(rebasing: text[span])) else {
            return parse(text)
        }
        let prefix = UnsafeRawBufferPointer(rebasing: text[..<span.lowerBound])
        let suffix = UnsafeRawBufferPointer(rebasing: text[span.upperBound...])
        if var machine = entries.first(where: { Self.same($0.prefix, prefix) && Self.same($0.suffix, suffix) })?.value {
            machine.vcpuThreadIDs = ids
            return machine
        }
        let machine = parse(text)
        // Kept only when the quick reading agrees with the whole parse.
        guard machine.vcpuThreadIDs == ids else { return machine }
        entries.insert(machine, for: Kind(prefix: Array(prefix), suffix: Array(suffix)))
        return machine
    }

    private static let key = Array(#""vcpu-thread-ids":"#.utf8)

    /// The bytes between `"vcpu-thread-ids": [` and its `]`, when the key
    /// is in the text once (a quote inside a string is escaped, so the key
    /// with its quotes cannot be part of one).
    static func threadIDSpan(in text: UnsafeRawBufferPointer) -> Range<Int>? {
        guard let found = find(key, in: text, from: 0) else { return nil }
        let keyEnd = found + key.count
        if find(key, in: text, from: keyEnd) != nil { return nil }
        var open = keyEnd
        while open < text.count, text[open] == UInt8(ascii: " ") { open += 1 }
        guard open < text.count, text[open] == UInt8(ascii: "[") else { return nil }
        guard let close = text[(open + 1)...].firstIndex(of: UInt8(ascii: "]")) else { return nil }
        return (open + 1)..<close
    }

    /// Where `pattern` (which starts with a quote) is in `text` at or after
    /// `start`: `memchr` to each quote, then a compare.
    private static func find(_ pattern: [UInt8], in text: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard let base = text.baseAddress else { return nil }
        var at = start
        while text.count - at >= pattern.count, let quote = memchr(base + at, Int32(pattern[0]), text.count - at) {
            let index = base.distance(to: UnsafeRawPointer(quote))
            guard text.count - index >= pattern.count else { return nil }
            if pattern.withUnsafeBytes({ memcmp(base + index, $0.baseAddress!, pattern.count) }) == 0 { return index }
            at = index + 1
        }
        return nil
    }

    /// The integers of a JSON array's inside (`1, 2, 3`, spaces anywhere
    /// between), each in Int64's range; nil for anything else.
    static func integers(in bytes: UnsafeRawBufferPointer) -> [Int64]? {
        var ids: [Int64] = []
        var i = 0
        func skipSpaces() { while i < bytes.count, bytes[i] == UInt8(ascii: " ") { i += 1 } }
        skipSpaces()
        if i == bytes.count { return ids }
        while true {
            let negative = bytes[i] == UInt8(ascii: "-")
            if negative { i += 1 }
            let first = i
            var value: Int64 = 0
            while i < bytes.count, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") {
                let digit = Int64(bytes[i] - UInt8(ascii: "0"))
                let (times, o1) = value.multipliedReportingOverflow(by: 10)
                let (sum, o2) = negative ? times.subtractingReportingOverflow(digit) : times.addingReportingOverflow(digit)
                if o1 || o2 { return nil }
                value = sum
                i += 1
            }
            // JSON has no leading zeros: "01" is not one integer.
            guard i > first, bytes[first] != UInt8(ascii: "0") || i == first + 1 else { return nil }
            ids.append(value)
            skipSpaces()
            if i == bytes.count { return ids }
            guard bytes[i] == UInt8(ascii: ",") else { return nil }
            i += 1
            skipSpaces()
            guard i < bytes.count else { return nil }
        }
    }

    /// Whether `text` starts with `prefix` and ends with `suffix`, apart.
    /// A kept prefix ends with the ids' `[` and its suffix starts with their
    /// `]`, and a text's key is in its prefix only (`threadIDSpan` found it
    /// once); so when the bytes between are plain integers, which hold no
    /// quote and no bracket, the text is the kept kind's with other ids,
    /// and `threadIDSpan` would have found those same bytes.
    static func encloses(_ text: UnsafeRawBufferPointer, _ prefix: [UInt8], _ suffix: [UInt8]) -> Bool {
        guard text.count >= prefix.count + suffix.count else { return false }
        return same(prefix, UnsafeRawBufferPointer(rebasing: text[..<prefix.count]))
            && same(suffix, UnsafeRawBufferPointer(rebasing: text[(text.count - suffix.count)...]))
    }

    private static func same(_ kept: [UInt8], _ bytes: UnsafeRawBufferPointer) -> Bool {
        kept.count == bytes.count && (bytes.isEmpty || kept.withUnsafeBytes { memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) == 0 })
    }
}
