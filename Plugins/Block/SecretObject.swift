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

    /// `qcrypto_secret_complete`. `lookup` finds another secret by id.
    static func load(id: String, _ props: JSONObject, vm: PluginVM,
                     lookup: (String) -> SecretObject?) -> Result<SecretObject, QMPError> {
        let format = props["format"]?.stringValue ?? "raw"
        var input: [UInt8]
        if let file = props["file"]?.stringValue {
            if props["data"] != nil { return .failure(.generic("'file' and 'data' are mutually exclusive")) }
            switch readFile(file, vm: vm) {
            case .success(let contents): input = contents
            case .failure(let error): return .failure(error)
            }
        } else if let data = props["data"]?.stringValue {
            input = Array(data.utf8)
        } else {
            return .failure(.generic("Either 'file' or 'data' must be provided"))
        }
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

    /// The file's contents; GLib's message when it cannot be opened.
    private static func readFile(_ path: String, vm: PluginVM) -> Result<[UInt8], QMPError> {
        let fd: Int32
        switch vm.openFile(path, flags: O_RDONLY) {
        case .failure(let error):
            return .failure(.generic("Unable to read \(path): Failed to open file \u{201C}\(path)\u{201D}: \(OpenFailure.reason(error.desc))"))
        case .success(let opened): fd = opened
        }
        defer { close(fd) }
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while contents.count <= maxFileSize {
            let count = read(fd, &chunk, chunk.count)
            if count <= 0 { break }
            contents += chunk.prefix(count)
        }
        return .success(contents)
    }

    /// Secrets are keys and passwords: a bound on what is read for one.
    static let maxFileSize = 1 << 20

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
