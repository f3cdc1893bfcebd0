#if canImport(Glibc)
import Glibc
#endif
import QMPPluginKit
import QMPWire

/// A `secret` object (QEMU's crypto/secret.c): a key or password that other
/// objects name by id (a LUKS image's `key-secret`, a TLS credential's
/// password, another secret's `keyid`). It is loaded when created, as in
/// QEMU: from `data` or `file`, decoded from base64 with `format: base64`,
/// or decrypted with AES-256-CBC by the secret `keyid` names and `iv` (how
/// libvirt passes every secret but its master key), with QEMU 7.2's checks
/// and error texts.
struct SecretObject {
    let id: String
    /// The secret's value, as QEMU holds it (`rawdata`).
    let bytes: [UInt8]

    /// `qcrypto_secret_complete`. `lookup` finds another secret by id. A
    /// `file` is opened and read on host workers (`PluginVM.openFile(…, for:then:)`,
    /// `offload`): `done` runs later on the VM's loop, with the secret or
    /// QEMU's error, and not at all when the request `reply` answers ended.
    static func load(id: String, _ props: JSONObject, vm: PluginVM, for reply: Reply,
                     lookup: @escaping (String) -> SecretObject?, done: @escaping (Result<SecretObject, QMPError>) -> Void) {
        guard let file = props["file"]?.stringValue else {
            guard let data = props["data"]?.stringValue else {
                return done(.failure(.generic("Either 'file' or 'data' must be provided")))
            }
            return done(complete(id: id, props, input: Array(data.utf8), lookup: lookup))
        }
        if props["data"] != nil { return done(.failure(.generic("'file' and 'data' are mutually exclusive"))) }
        // QEMU reads the file with g_file_get_contents, which knows no fd
        // sets or getfd names: "/dev/fdset/N" is a path that does not
        // exist. (So no client's pipe is read here: what opens is a
        // regular file, read on a worker.)
        if file.hasPrefix("/dev/fdset/") || file.hasPrefix("fd:") {
            return done(.failure(.generic("Unable to read \(file): Failed to open file \u{201C}\(file)\u{201D}: No such file or directory")))
        }
        // Opened off the loop too: a hung FUSE or NFS mount ignores O_NONBLOCK.
        vm.openFile(file, flags: O_RDONLY, for: reply) { opened in
            switch opened {
            case .failure(let error):
                done(.failure(.generic("Unable to read \(file): Failed to open file \u{201C}\(file)\u{201D}: \(OpenFailure.reason(error.desc))")))
            case .success(let fd):
                let contents = FileContents(fd: fd)
                vm.offload({ contents.read(limit: maxFileSize) }, then: {
                    done(complete(id: id, props, input: contents.bytes, lookup: lookup))
                })
            }
        }
    }

    /// What follows reading: decryption with `keyid`, or base64 decoding.
    private static func complete(id: String, _ props: JSONObject, input: [UInt8],
                                 lookup: (String) -> SecretObject?) -> Result<SecretObject, QMPError> {
        let format = props["format"]?.stringValue ?? "raw"
        var input = input
        if let keyid = props["keyid"]?.stringValue {
            return decrypt(input, format: format, keyid: keyid, iv: props["iv"]?.stringValue, lookup: lookup)
                .map { SecretObject(id: id, bytes: $0) }
        }
        if format == "base64" {
            switch Base64.decode(input) {
            case .success(let decoded): input = decoded
            case .failure(let error): return .failure(error)
            }
        }
        return .success(SecretObject(id: id, bytes: input))
    }

    /// `qcrypto_secret_decrypt`.
    private static func decrypt(_ input: [UInt8], format: String, keyid: String, iv: String?,
                                lookup: (String) -> SecretObject?) -> Result<[UInt8], QMPError> {
        guard let key = lookup(keyid) else { return .failure(.generic("No secret with id '\(keyid)'")) }
        guard key.bytes.count == AES256CBC.keySize else { return .failure(.generic("Key should be 32 bytes in length")) }
        guard let iv else { return .failure(.generic("IV is required to decrypt secret")) }
        let ivBytes: [UInt8]
        switch Base64.decode(Array(iv.utf8)) {
        case .success(let decoded): ivBytes = decoded
        case .failure(let error): return .failure(error)
        }
        guard ivBytes.count == AES256CBC.blockSize else {
            return .failure(.generic("IV should be 16 bytes in length not \(ivBytes.count)"))
        }
        var ciphertext = input
        if format == "base64" {
            switch Base64.decode(input) {
            case .success(let decoded): ciphertext = decoded
            case .failure(let error): return .failure(error)
            }
        }
        guard ciphertext.count % AES256CBC.blockSize == 0 else {
            return .failure(.generic("Length \(ciphertext.count) must be a multiple of block size \(AES256CBC.blockSize)"))
        }
        guard var plaintext = AES256CBC.decrypt(ciphertext, key: key.bytes, iv: ivBytes) else {
            return .failure(.generic("Cannot decrypt secret '\(keyid)': AES-256-CBC is unavailable (libcrypto not found)"))
        }
        let padding = Int(plaintext.last ?? 0)
        guard !plaintext.isEmpty, padding <= AES256CBC.blockSize, padding <= plaintext.count else {
            return .failure(.generic("Incorrect number of padding bytes (\(padding)) found on decrypted data"))
        }
        plaintext.removeLast(padding)
        return .success(plaintext)
    }

    /// Secrets are keys and passwords: a bound on what is read for one.
    static let maxFileSize = 1 << 20
}

/// A secret file's bytes, read by a worker and handed to the loop in the
/// completion the host orders after it; the fd closes with the reader.
final class FileContents: @unchecked Sendable {
    let fd: Int32
    private(set) var bytes: [UInt8] = []

    init(fd: Int32) { self.fd = fd }
    deinit { close(fd) }

    func read(limit: Int) {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count <= limit {
            let count = Glibc.read(fd, &chunk, chunk.count)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            bytes += chunk.prefix(count)
        }
    }
}

/// QEMU's `qbase64_decode`: only the base64 alphabet (no NUL, no
/// whitespace), then GLib's lenient decoding (a short last group gives
/// the bytes it has).
enum Base64 {
    static func decode(_ input: [UInt8]) -> Result<[UInt8], QMPError> {
        if input.contains(0) { return .failure(.generic("Base64 data contains embedded NUL characters")) }
        var output: [UInt8] = []
        var accumulator: UInt32 = 0, bits = 0
        for byte in input {
            let value: UInt32
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(byte - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(byte - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(byte - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "+"): value = 62
            case UInt8(ascii: "/"): value = 63
            case UInt8(ascii: "="): continue
            default: return .failure(.generic("Base64 data contains invalid characters"))
            }
            accumulator = (accumulator << 6) | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return .success(output)
    }
}
