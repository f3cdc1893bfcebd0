/// A command line or start-up problem, printed as QEMU prints its errors:
/// `qemu-system-x86_64: <text>` on stderr, then exit status 1.
struct EmulatorError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
