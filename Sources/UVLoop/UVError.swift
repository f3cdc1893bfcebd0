import CUV

/// A libuv or system call failure: the operation and its error text.
public struct UVError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A libuv error code (negative errno on Linux).
    public var code: Int32
    public var operation: String

    public init(code: Int32, operation: String) {
        self.code = code
        self.operation = operation
    }

    /// From the current `errno`.
    static func errno(_ operation: String) -> UVError {
        UVError(code: -Glibc.errno, operation: operation)
    }

    public var description: String {
        "\(operation): \(String(cString: uv_strerror(code)))"
    }
}

/// Runs a libuv call and turns a negative result into an error.
@inline(__always)
func check(_ rc: Int32, _ operation: @autoclosure () -> String) throws(UVError) {
    if rc < 0 { throw UVError(code: rc, operation: operation()) }
}

#if canImport(Glibc)
import Glibc
#endif
