#if canImport(Glibc)
import Glibc
#endif

/// The Unix 98 pty calls. Glibc's Swift module leaves them out (they need
/// `_XOPEN_SOURCE`), so they are looked up in the C library at run time.
enum PtyCalls {
    typealias OpenPT = @convention(c) (Int32) -> Int32
    typealias FDCall = @convention(c) (Int32) -> Int32
    typealias PTSName = @convention(c) (Int32, UnsafeMutablePointer<CChar>?, Int) -> Int32

    private static func symbol<T>(_ name: String, as type: T.Type) -> T? {
        guard let handle = dlopen(nil, RTLD_NOW), let address = dlsym(handle, name) else { return nil }
        return unsafeBitCast(address, to: type)
    }

    static func posixOpenPT(_ flags: Int32) -> Int32 {
        symbol("posix_openpt", as: OpenPT.self)?(flags) ?? -1
    }

    static func grantPT(_ fd: Int32) -> Int32 { symbol("grantpt", as: FDCall.self)?(fd) ?? -1 }

    static func unlockPT(_ fd: Int32) -> Int32 { symbol("unlockpt", as: FDCall.self)?(fd) ?? -1 }

    /// The slave's path, or nil.
    static func slaveName(_ fd: Int32) -> String? {
        guard let call = symbol("ptsname_r", as: PTSName.self) else { return nil }
        var name = [CChar](repeating: 0, count: 128)
        guard call(fd, &name, name.count) == 0 else { return nil }
        return String(cString: name)
    }
}
