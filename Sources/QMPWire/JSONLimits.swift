/// Bounds on one JSON message, as QEMU's `qobject/json-streamer.c` sets them.
///
/// A message past any of them is answered with QEMU's error text and
/// dropped; the stream goes on with the next message.
public struct JSONLimits: Sendable, Equatable {
    /// Nested arrays and objects (QEMU's MAX_NESTING).
    public var maxNesting: Int
    /// Bytes of tokens in one message (QEMU's MAX_TOKEN_SIZE, 64 MiB).
    public var maxTokenBytes: Int
    /// Tokens in one message (QEMU's MAX_TOKEN_COUNT, 2 Mi).
    public var maxTokenCount: Int

    public init(maxNesting: Int = 1024, maxTokenBytes: Int = 64 << 20, maxTokenCount: Int = 2 << 20) {
        self.maxNesting = maxNesting
        self.maxTokenBytes = maxTokenBytes
        self.maxTokenCount = maxTokenCount
    }

    public static let qemu = JSONLimits()
}

/// Why a message could not be parsed: QEMU's text, which the client gets
/// as a GenericError's `desc`.
public struct JSONParseError: Error, Sendable, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
}
