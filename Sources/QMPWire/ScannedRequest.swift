/// A request `QMPRequestScanner` recognised in a read buffer: where its
/// command name, `id` and empty `arguments` lie, nothing copied. Valid only
/// while the buffer is (during the call that hands it); a session keeps
/// what it needs as a `QMPRequest` (`request`).
///
/// Kept small: the buffer's address, the request's start, the `id`'s
/// value, and each part as an `Int32` offset and length from the
/// request's start (a recognised request is shorter than
/// `JSONLimits.maxTokenBytes`, checked to fit). The scanner's result was a
/// 97-byte optional of `Range`s, thirteen stores for the scanner and as
/// many loads for its caller per request (docs/performance.md, "Small
/// messages (session 10)").
public struct ScannedRequest {
    /// The buffer the offsets index (from `start`). Never null, so an
    /// optional `ScannedRequest` needs no tag of its own.
    private let base: UnsafePointer<UInt8>
    /// The index of the request's `{` in the buffer.
    private let start: Int
    /// The `id`'s value when it is an integer.
    let idInteger: Int64
    private let nameOffset: Int32
    private let nameLength: Int32
    /// 0 without an `id` (one is at least a byte long).
    private let idOffset: Int32
    private let idLength: Int32
    /// 0 without `arguments` (`{}` is at least two bytes long).
    private let argumentsOffset: Int32
    private let argumentsLength: Int32
    /// From the `{` to just past the closing `}`.
    private let length: Int32

    /// The parts, each as offset and length from the request's start
    /// (`QMPRequestScanner.scan`, which checked the request fits in `Int32`).
    @inline(__always)
    init(base: UnsafePointer<UInt8>, start: Int, name: (offset: Int32, length: Int32), id: (offset: Int32, length: Int32),
         idInteger: Int64, arguments: (offset: Int32, length: Int32), length: Int32) {
        self.base = base
        self.start = start
        self.idInteger = idInteger
        nameOffset = name.offset
        nameLength = name.length
        idOffset = id.offset
        idLength = id.length
        argumentsOffset = arguments.offset
        argumentsLength = arguments.length
        self.length = length
    }

    /// The command name's indices in the buffer, without its quotes (plain ASCII).
    public var execute: Range<Int> { range(nameOffset, nameLength) }
    /// The `id`'s indices as the client sent it (a string with its
    /// quotes), which is byte for byte how QEMU echoes it; nil without one.
    public var id: Range<Int>? { idLength == 0 ? nil : range(idOffset, idLength) }
    /// The `arguments` member's `{}` as sent (blanks inside kept); nil without one.
    public var arguments: Range<Int>? { argumentsLength == 0 ? nil : range(argumentsOffset, argumentsLength) }
    /// The index just past the request's closing `}`.
    public var end: Int { start &+ Int(length) }

    @inline(__always)
    private func range(_ offset: Int32, _ length: Int32) -> Range<Int> {
        let lower = start &+ Int(offset)
        return lower..<(lower &+ Int(length))
    }

    @inline(__always)
    private func bytes(_ offset: Int32, _ length: Int32) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: base + (start &+ Int(offset)), count: Int(length))
    }

    /// The command name (a small string, inline up to 15 bytes: no allocation).
    public var name: String {
        String(decoding: nameBytes, as: UTF8.self)
    }

    /// The command name's bytes (plain ASCII), for a look-up by bytes
    /// (`CommandNameTable.entry(bytes:)`).
    public var nameBytes: UnsafeBufferPointer<UInt8> {
        bytes(nameOffset, nameLength)
    }

    /// The bytes of the `id` as QEMU writes it back in the reply.
    public var idBytes: UnsafeBufferPointer<UInt8>? {
        idLength == 0 ? nil : bytes(idOffset, idLength)
    }

    /// The `id` as the full parser reads it: `.int` or `.string`.
    public var idValue: JSONValue? {
        guard let text = idBytes else { return nil }
        guard text[0] == UInt8(ascii: "\"") else { return .int(idInteger) }
        return .string(String(decoding: UnsafeBufferPointer(rebasing: text[1..<(text.count - 1)]), as: UTF8.self))
    }

    /// The request `QMPRequest.decode` makes of the same bytes, with its
    /// `argumentsText` (the `{}` as sent, then a NUL) as a session keeps it
    /// for a plugin built for ABI 2.
    ///
    /// - Parameter command: the name's number and stored `String` in the
    ///   command table of the host that will run it (`SessionHost.command(named:)`),
    ///   when it has one: the name is taken from there, not decoded again.
    public func request(knownAs command: (number: Int, name: String)? = nil) -> QMPRequest {
        // One initializer with every member: a `var` set member by member
        // was copied and destroyed whole on the way out (the outlined
        // copies of a `QMPRequest`, ~450 instructions a request in the
        // fleet's profile).
        var text: [UInt8]?
        if argumentsLength != 0 {
            let sent = bytes(argumentsOffset, argumentsLength)
            text = [UInt8](unsafeUninitializedCapacity: sent.count + 1) { buffer, count in
                buffer.baseAddress!.initialize(from: sent.baseAddress!, count: sent.count)
                buffer[sent.count] = 0
                count = sent.count + 1
            }
        }
        let execute: String
        if let command { execute = command.name } else { execute = name }
        return QMPRequest(execute: execute, arguments: argumentsLength == 0 ? nil : JSONObject(), id: idValue, isOOB: false,
                          argumentsText: text, commandNumber: command?.number)
    }
}
