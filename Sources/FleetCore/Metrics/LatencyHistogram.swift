/// Durations counted into fixed buckets, as a Prometheus histogram wants
/// them: the same bounds everywhere, so loops' histograms add up.
///
/// Recording is a short scan and two additions into storage that already
/// exists: no allocation, no lock (the owner is loop-confined). Sums wrap
/// rather than trap (`&+`): a counter must never end the fleet.
public struct LatencyHistogram: Sendable, Equatable {
    /// Upper bounds in nanoseconds, from 25 µs (a reply on this machine) to 10 s.
    public static let boundsNanoseconds: [UInt64] = [
        25_000, 50_000, 100_000, 250_000, 500_000,
        1_000_000, 2_500_000, 5_000_000, 10_000_000, 25_000_000, 50_000_000,
        100_000_000, 250_000_000, 500_000_000, 1_000_000_000, 2_500_000_000, 10_000_000_000,
    ]

    /// Observations per bucket (not cumulative); the last counts what is over every bound.
    public private(set) var buckets = [UInt64](repeating: 0, count: boundsNanoseconds.count + 1)
    public private(set) var count: UInt64 = 0
    public private(set) var sumNanoseconds: UInt64 = 0

    public init() {}

    public mutating func record(nanoseconds: UInt64) {
        var index = 0
        let bounds = Self.boundsNanoseconds
        while index < bounds.count && nanoseconds > bounds[index] { index += 1 }
        buckets[index] &+= 1
        count &+= 1
        sumNanoseconds &+= nanoseconds
    }

    /// Adds another loop's observations.
    public mutating func add(_ other: LatencyHistogram) {
        for index in buckets.indices { buckets[index] &+= other.buckets[index] }
        count &+= other.count
        sumNanoseconds &+= other.sumNanoseconds
    }
}
