import QMPWire
#if canImport(Glibc)
import Glibc
#endif

/// One command being run: its request, its checked arguments once the schema
/// check passed, the client it came from, and the file descriptors that
/// client passed with it (SCM_RIGHTS).
///
/// Descriptors not taken by the handler are closed when the call ends, so an
/// fd sent with a command that takes none is not leaked.
public final class CommandCall {
    public let request: QMPRequest
    public package(set) var arguments: JSONObject
    public private(set) weak var session: Session?
    private var fileDescriptors: [Int32]
    /// Set by a `drop-reply` fault: the command runs, its reply is not sent.
    package var isReplyDropped = false
    /// The session took the first completion; any later one is ignored. A
    /// field of the call rather than a `var` its closure captures: a
    /// captured `var` is a heap box per command, with a dynamic
    /// exclusivity check on every access.
    var isAnswered = false

    package init(request: QMPRequest, session: Session?, fileDescriptors: [Int32]) {
        self.request = request
        self.arguments = request.arguments ?? JSONObject()
        self.session = session
        self.fileDescriptors = fileDescriptors
    }

    public var name: String { request.execute }

    /// Takes ownership of the first descriptor passed with this command.
    public func takeFileDescriptor() -> Int32? {
        fileDescriptors.isEmpty ? nil : fileDescriptors.removeFirst()
    }

    /// Closes what no handler took.
    func closeUnusedFileDescriptors() {
        for fd in fileDescriptors { Glibc.close(fd) }
        fileDescriptors.removeAll()
    }

    deinit { closeUnusedFileDescriptors() }
}
