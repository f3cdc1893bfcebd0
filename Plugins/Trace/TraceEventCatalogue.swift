/// The trace events of QEMU 7.2 (x86_64 build), in the order QEMU lists them.
///
/// The names are data recorded from a real QEMU by `scripts/gen-trace-events.py`
/// into the resource `trace-events.txt` (compiled in as bytes); this type
/// parses them once per process. The catalogue is immutable: each VM keeps
/// its own states.
enum TraceEventCatalogue {
    static let events: [TraceEvent] = PackageResources.trace_events_txt.split(separator: UInt8(ascii: "\n")).compactMap { line in
        // Lines starting with '#' say where the data came from.
        guard line.first != UInt8(ascii: "#") else { return nil }
        let words = line.split(separator: UInt8(ascii: " ")).map { String(decoding: $0, as: UTF8.self) }
        guard let name = words.first else { return nil }
        let flags = words.dropFirst()
        return TraceEvent(name: name, isPerVCPU: flags.contains("vcpu"), isAvailable: !flags.contains("unavailable"))
    }

    /// Index by name, for exact (non-pattern) requests.
    static let indexByName: [String: Int] = Dictionary(
        events.enumerated().map { ($0.element.name, $0.offset) }, uniquingKeysWith: { first, _ in first })
}
