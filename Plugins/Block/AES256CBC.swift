#if canImport(Glibc)
import Glibc
#endif

/// AES-256 in CBC mode without padding, the cipher QEMU decrypts `secret`
/// objects with (`keyid` + `iv`), through the host's OpenSSL libcrypto,
/// loaded at the first decryption (a fleet without encrypted secrets never
/// loads it). Nil when libcrypto is missing.
enum AES256CBC {
    static let blockSize = 16
    static let keySize = 32

    private final class Library: @unchecked Sendable {
        typealias NewContext = @convention(c) () -> OpaquePointer?
        typealias CipherType = @convention(c) () -> OpaquePointer?
        typealias DecryptInit = @convention(c) (OpaquePointer?, OpaquePointer?, OpaquePointer?, UnsafePointer<UInt8>?, UnsafePointer<UInt8>?) -> Int32
        typealias SetPadding = @convention(c) (OpaquePointer?, Int32) -> Int32
        typealias DecryptUpdate = @convention(c) (OpaquePointer?, UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<Int32>?, UnsafePointer<UInt8>?, Int32) -> Int32
        typealias FreeContext = @convention(c) (OpaquePointer?) -> Void

        let newContext: NewContext
        let cipher: CipherType
        let decryptInit: DecryptInit
        let setPadding: SetPadding
        let decryptUpdate: DecryptUpdate
        let freeContext: FreeContext

        init?() {
            guard let handle = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL) ?? dlopen("libcrypto.so", RTLD_NOW | RTLD_LOCAL) else { return nil }
            func symbol<T>(_ name: String, as _: T.Type) -> T? {
                dlsym(handle, name).map { unsafeBitCast($0, to: T.self) }
            }
            guard let newContext = symbol("EVP_CIPHER_CTX_new", as: NewContext.self),
                  let cipher = symbol("EVP_aes_256_cbc", as: CipherType.self),
                  let decryptInit = symbol("EVP_DecryptInit_ex", as: DecryptInit.self),
                  let setPadding = symbol("EVP_CIPHER_CTX_set_padding", as: SetPadding.self),
                  let decryptUpdate = symbol("EVP_DecryptUpdate", as: DecryptUpdate.self),
                  let freeContext = symbol("EVP_CIPHER_CTX_free", as: FreeContext.self)
            else { return nil }
            self.newContext = newContext
            self.cipher = cipher
            self.decryptInit = decryptInit
            self.setPadding = setPadding
            self.decryptUpdate = decryptUpdate
            self.freeContext = freeContext
        }
    }

    private static let library = Library()

    /// `ciphertext` decrypted; its length must be a multiple of the block
    /// size, `key` 32 bytes and `iv` 16 (the caller checks, with QEMU's texts).
    static func decrypt(_ ciphertext: [UInt8], key: [UInt8], iv: [UInt8]) -> [UInt8]? {
        guard let lib = library, key.count == keySize, iv.count == blockSize, ciphertext.count % blockSize == 0,
              let context = lib.newContext()
        else { return nil }
        defer { lib.freeContext(context) }
        guard lib.decryptInit(context, lib.cipher(), nil, key, iv) == 1, lib.setPadding(context, 0) == 1 else { return nil }
        var plaintext = [UInt8](repeating: 0, count: ciphertext.count + blockSize)
        var written: Int32 = 0
        guard lib.decryptUpdate(context, &plaintext, &written, ciphertext, Int32(ciphertext.count)) == 1 else { return nil }
        return Array(plaintext.prefix(Int(written)))
    }
}
