/// The trace events of QEMU 7.2 (x86_64 build), in the order QEMU lists them.
///
/// The names are data recorded from a real QEMU by `scripts/gen-trace-events.py`
/// into `TraceEventCatalogue+Names.swift`; this type parses them once per
/// process. The catalogue is immutable: each VM keeps its own states.
enum TraceEventCatalogue {
    static let events: [TraceEvent] = listing.split(separator: "\n").compactMap { line in
        let words = line.split(separator: " ")
        guard let name = words.first else { return nil }
        let flags = words.dropFirst()
        return TraceEvent(name: String(name), isPerVCPU: flags.contains("vcpu"), isAvailable: !flags.contains("unavailable"))
    }

    /// Index by name, for exact (non-pattern) requests.
    static let indexByName: [String: Int] = Dictionary(
        events.enumerated().map { ($0.element.name, $0.offset) }, uniquingKeysWith: { first, _ in first })
}
