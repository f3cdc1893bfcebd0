@testable import QMPPluginKit
import QMPWire
import Testing

/// A plugin's settings text is parsed, and its typed settings made, once
/// per distinct text; every instance from that text gets the same value.
@Suite struct SettingsCacheTests {
    /// Counts how often `make` ran.
    final class Counter: @unchecked Sendable { var count = 0 }

    static func configuration(_ cache: SettingsCache, _ text: String, _ counter: Counter) throws(PluginError) -> Int64 {
        var bytes = Array(text.utf8)
        let result: Result<Int64, PluginError> = bytes.withUnsafeMutableBytes { buffer in
            Result { () throws(PluginError) in
                try cache.configuration(of: UnsafeRawBufferPointer(buffer), as: Int64.self) { value throws(PluginError) in
                    counter.count += 1
                    guard let size = value["size"]?.int64Value else { throw PluginError("test: no size") }
                    return size
                }
            }
        }
        return try result.get()
    }

    @Test func theSameTextIsDecodedOnce() throws {
        let cache = SettingsCache()
        let counter = Counter()
        #expect(try Self.configuration(cache, #"{"size": 5}"#, counter) == 5)
        #expect(try Self.configuration(cache, #"{"size": 5}"#, counter) == 5)
        #expect(counter.count == 1)
        #expect(try Self.configuration(cache, #"{"size": 6}"#, counter) == 6)
        #expect(counter.count == 2)
        // The first text is still kept: a fleet's templates take turns.
        #expect(try Self.configuration(cache, #"{"size": 5}"#, counter) == 5)
        #expect(counter.count == 2)
    }

    @Test func aRefusedTextIsRefusedEveryTime() {
        let cache = SettingsCache()
        let counter = Counter()
        for _ in 0..<2 {
            #expect(throws: PluginError.self) { try Self.configuration(cache, #"{"other": 1}"#, counter) }
        }
        #expect(counter.count == 2)
        do {
            _ = try Self.configuration(cache, #"{"size": "#, counter)
            Issue.record("a text that is not JSON was taken")
        } catch {
            #expect(error.message.hasPrefix("config is not valid JSON: "))
        }
    }

    @Test func parsedTextsAreShared() throws {
        let cache = SettingsCache()
        let text = Array(#"{"drives": [{"id": "d0"}]}"#.utf8)
        let first = try text.withUnsafeBytes { try cache.value(of: $0) }
        let second = try text.withUnsafeBytes { try cache.value(of: $0) }
        #expect(first == second)
        #expect(first["drives"]?.arrayValue?.first?["id"]?.stringValue == "d0")
    }

    /// Only `capacity` texts are kept, the most recent first.
    @Test func theOldestTextGoes() throws {
        let cache = SettingsCache()
        let counter = Counter()
        for size in 0...SettingsCache.capacity { _ = try Self.configuration(cache, #"{"size": \#(size)}"#, counter) }
        #expect(counter.count == SettingsCache.capacity + 1)
        _ = try Self.configuration(cache, #"{"size": \#(SettingsCache.capacity)}"#, counter)
        #expect(counter.count == SettingsCache.capacity + 1)
        _ = try Self.configuration(cache, #"{"size": 0}"#, counter)
        #expect(counter.count == SettingsCache.capacity + 2)
    }
}
