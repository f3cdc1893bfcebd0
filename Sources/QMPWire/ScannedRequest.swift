/// A request `QMPRequestScanner` recognised in a read buffer: where its
/// command name, `id` and empty `arguments` lie, nothing copied. Valid only
/// while the buffer is (during the call that hands it); a session keeps
/// what it needs as a `QMPRequest` (`request`).
public struct ScannedRequest {
    /// The buffer the ranges index.
    public let bytes: UnsafeBufferPointer<UInt8>
    /// The command name's bytes, without its quotes (plain ASCII).
    public let execute: Range<Int>
    /// The `id` as the client sent it (a string with its quotes), which is
    /// byte for byte how QEMU echoes it; nil without one.
    public let id: Range<Int>?
    /// The `id`'s value when it is an integer.
    let idInteger: Int64
    /// The `arguments` member's `{}` as sent (blanks inside kept); nil without one.
    public let arguments: Range<Int>?
    /// The index just past the request's closing `}`.
    public let end: Int

    /// The command name (a small string, inline up to 15 bytes: no allocation).
    public var name: String {
        String(decoding: nameBytes, as: UTF8.self)
    }

    /// The command name's bytes (plain ASCII), for a look-up by bytes
    /// (`CommandNameTable.entry(bytes:)`).
    public var nameBytes: UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: bytes[execute])
    }

    /// The bytes of the `id` as QEMU writes it back in the reply.
    public var idBytes: UnsafeBufferPointer<UInt8>? {
        id.map { UnsafeBufferPointer(rebasing: bytes[$0]) }
    }

    /// The `id` as the full parser reads it: `.int` or `.string`.
    public var idValue: JSONValue? {
        guard let id else { return nil }
        guard bytes[id.lowerBound] == UInt8(ascii: "\"") else { return .int(idInteger) }
        return .string(String(decoding: UnsafeBufferPointer(rebasing: bytes[(id.lowerBound + 1)..<(id.upperBound - 1)]), as: UTF8.self))
    }

    /// The request `QMPRequest.decode` makes of the same bytes, with its
    /// `argumentsText` (the `{}` as sent, then a NUL) as a session keeps it
    /// for a plugin built for ABI 2.
    ///
    /// - Parameter command: the name's number and stored `String` in the
    ///   command table of the host that will run it (`SessionHost.command(named:)`),
    ///   when it has one: the name is taken from there, not decoded again.
    public func request(knownAs command: (number: Int, name: String)? = nil) -> QMPRequest {
        var request = QMPRequest(execute: command?.name ?? name, arguments: arguments == nil ? nil : JSONObject(), id: idValue)
        request.commandNumber = command?.number
        if let arguments {
            request.argumentsText = [UInt8](unsafeUninitializedCapacity: arguments.count + 1) { buffer, count in
                for (k, index) in arguments.enumerated() { buffer[k] = bytes[index] }
                buffer[arguments.count] = 0
                count = arguments.count + 1
            }
        }
        return request
    }
}
