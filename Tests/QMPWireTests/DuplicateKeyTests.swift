import QMPWire
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// QEMU refuses an object with a repeated key; finding one must stay linear
/// in the object's size, whatever the client sends (issue 16: 100,000
/// distinct keys took 23 s with a scan per key, and froze the loop thread).
struct DuplicateKeyTests {
    /// `{"k0": 0, ..., "k<count-1>": 0` plus `tail` and `}`.
    static func object(keys count: Int, tail: String = "") -> [UInt8] {
        var text = "{"
        text.reserveCapacity(count * 12)
        for i in 0..<count { text += (i == 0 ? "" : ", ") + "\"k\(i)\": 0" }
        return Array((text + tail + "}").utf8)
    }

    static func seconds(_ body: () -> Void) -> Double {
        var start = timespec(), end = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        body()
        clock_gettime(CLOCK_MONOTONIC, &end)
        return Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) / 1e9
    }

    /// Around the hashing threshold (16 members) and past it, on both paths: in one buffer (the direct
    /// parser sees it whole) and in 64 KiB reads (the token parser).
    @Test(arguments: [nil, 65536])
    func repeatedKeyAfterManyIsFound(chunk: Int?) {
        for count in [3, 15, 16, 17, 1000] {
            #expect(errors(parseAll(Self.object(keys: count, tail: ", \"k\(count / 2)\": 1"), chunk: chunk))
                == ["JSON parse error, duplicate key"], "\(count) keys")
            let distinct = parseAll(Self.object(keys: count), chunk: chunk)
            #expect(distinct.count == 1)
            if case .success(.object(let o)) = distinct.first { #expect(o.count == count) } else { Issue.record("\(distinct)") }
        }
    }

    /// 100,000 distinct keys and a repeat of the first: about 1.2 MB,
    /// inside QEMU's token limits. With a scan per key this took 23 s in a
    /// release build (minutes in a debug one); hashed, a few seconds in a
    /// debug build on a busy machine.
    @Test(arguments: [nil, 65536])
    func manyKeysParseInLinearTime(chunk: Int?) {
        let bytes = Self.object(keys: 100_000, tail: ", \"k0\": 1")
        var results: [Result<JSONValue, JSONParseError>] = []
        let elapsed = Self.seconds { results = parseAll(bytes, chunk: chunk) }
        #expect(errors(results) == ["JSON parse error, duplicate key"])
        #expect(elapsed < 20, "took \(elapsed) s")
    }

    /// A repeat of an early, a middle and the last key is found while the
    /// key index grows and while it moves its entries to the larger table
    /// (it grows at 48, 96, 192... keys and moves four buckets per key).
    @Test func repeatsAreFoundWhileTheIndexGrows() {
        for count in [47, 48, 49, 50, 60, 64, 65, 96, 97, 100, 130, 193, 400, 3000] {
            for repeated in [0, count / 3, count - 1] {
                #expect(errors(parseAll(Self.object(keys: count, tail: ", \"k\(repeated)\": 1")))
                    == ["JSON parse error, duplicate key"], "\(count) keys, k\(repeated) again")
            }
            let distinct = parseAll(Self.object(keys: count, tail: ", \"k\(count)\": 1"))
            if case .success(.object(let o)) = distinct.first { #expect(o.count == count + 1) } else { Issue.record("\(distinct)") }
        }
    }

    /// The work is spread over the reads: the last byte of a 1.2 MB object
    /// costs no more than an average 64 KiB read. When the whole message
    /// was parsed at its last byte, that step was about as long as all the
    /// reads before it together (0.6 s in a debug build), and every VM of
    /// the loop waited for it.
    @Test func lastByteCostsNoMoreThanARead() {
        let bytes = Self.object(keys: 100_000, tail: ", \"k0\": 1")
        var parser = JSONStreamParser()
        var results: [Result<JSONValue, JSONParseError>] = []
        var reads = 0
        let lexing = Self.seconds {
            var start = 0
            while start < bytes.count - 1 {
                let end = min(start + 65536, bytes.count - 1)
                parser.feed(Array(bytes[start..<end])) { results.append($0) }
                start = end
                reads += 1
            }
        }
        let last = Self.seconds { parser.feed([UInt8(ascii: "}")]) { results.append($0) } }
        #expect(errors(results) == ["JSON parse error, duplicate key"])
        #expect(last < lexing / Double(reads) * 2 + 0.005, "last byte \(last) s, \(reads) reads \(lexing) s")
    }
}
