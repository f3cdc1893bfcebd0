@testable import FleetCore
import Testing

struct SplitMix64Tests {
    /// The reference sequence of Vigna's splitmix64.c for seed 0.
    @Test func matchesTheReferenceSequence() {
        var generator = SplitMix64(seed: 0)
        #expect([generator.next(), generator.next(), generator.next()] == [0xe220_a839_7b1d_cdaf, 0x6e78_9e6a_a1b9_65f4, 0x06c4_5d18_8009_454f])
    }

    @Test func unitNumbersStayBelowOne() {
        var generator = SplitMix64(seed: 99)
        for _ in 0..<10_000 {
            let u = generator.nextUnit()
            #expect(u >= 0 && u < 1)
        }
    }
}
