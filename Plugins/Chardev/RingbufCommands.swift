import QMPPluginKit
import QMPWire

/// ringbuf-write and ringbuf-read, with QEMU's formats and errors.
extension ChardevPlugin {
    /// The ring buffer `device`, or QEMU's error (GenericError both times).
    func ringbuf(_ device: String) -> Result<RingbufBackend, QMPError> {
        guard let chardev = chardev(device) else { return .failure(.generic("Device '\(device)' not found")) }
        guard let ring = chardev.backend as? RingbufBackend else { return .failure(.generic("\(device) is not a ringbuf device")) }
        return .success(ring)
    }

    func ringbufWrite(_ args: QAPI.RingbufWriteCommand) -> Result<JSONValue, QMPError> {
        let device = args.device
        let text = args.data
        return ringbuf(device).flatMap { ring in
            var bytes: [UInt8]
            if args.format == .base64 {
                switch Base64.decode(text) {
                case .failure: return .failure(.generic("Base64 data contains invalid characters"))
                case .success(let decoded): bytes = decoded
                }
            } else {
                // QEMU writes strlen(data) bytes: a NUL ends the text.
                bytes = Array(text.utf8.prefix { $0 != 0 })
            }
            ring.write(bytes)
            return .success(.object([:]))
        }
    }

    func ringbufRead(_ args: QAPI.RingbufReadCommand) -> Result<JSONValue, QMPError> {
        let device = args.device
        let size = args.size
        return ringbuf(device).flatMap { ring in
            guard size > 0 else { return .failure(.generic("size must be greater than zero")) }
            let bytes = ring.read(Int(min(size, Int64(Int.max))))
            if args.format == .base64 { return .success(.string(Base64.encode(bytes))) }
            // QEMU returns the bytes as a C string: a NUL ends it, and
            // invalid UTF-8 comes out as U+FFFD.
            return .success(.string(String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)))
        }
    }
}
