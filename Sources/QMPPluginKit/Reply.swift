import QMPPluginABI
import QMPWire

/// The answer to one request, for handlers that complete later (a job that
/// finishes on a timer). Answer exactly once; the host ignores (and logs) a
/// second answer, and answers for you with an error after its timeout.
public struct Reply: Sendable {
    let token: qmp_request
    /// Where an intercepted reply's answer goes instead of the host.
    let interceptor: Interceptor?

    init(token: qmp_request) {
        self.token = token
        interceptor = nil
    }

    /// A reply for the same request whose answer goes to `body` (on the
    /// loop thread), not to the client: for a plugin that looks at a
    /// handler's answer before it is sent, and may run the handler again
    /// once more work is done off the loop (`PluginRegistry.prepare(_:answering:)`).
    /// It still stands for the request: `openFile(…, for:)` follows that.
    public func intercepted(_ body: @escaping (Answer) -> Void) -> Reply {
        Reply(token: token, interceptor: Interceptor(body))
    }

    private init(token: qmp_request, interceptor: Interceptor) {
        self.token = token
        self.interceptor = interceptor
    }

    /// An answer an intercepted reply took, to be sent later with `send(_:)`.
    public struct Answer: Sendable {
        let text: [UInt8]?
        public let error: QMPError?
        public var isFailure: Bool { error != nil }
    }

    /// Sends an answer an intercepted reply took.
    public func send(_ answer: Answer) {
        if let error = answer.error { return failure(error) }
        success(text: answer.text ?? Array("{}".utf8))
    }

    /// The body of an intercepted reply. Loop-confined: a reply is answered
    /// on its VM's loop thread.
    final class Interceptor: @unchecked Sendable {
        let body: (Answer) -> Void
        init(_ body: @escaping (Answer) -> Void) { self.body = body }
    }

    /// Answers with `value`, written as QEMU writes it: the host puts
    /// that text into the client's reply as it is (`CanonicalJSON`).
    public func success(_ value: JSONValue = .object([:])) {
        success(text: value.jsonBytes())
    }

    /// Answers with text the plugin kept (`CanonicalJSON(value)`), for a
    /// query asked far more often than what it reports changes.
    public func success(_ text: CanonicalJSON) {
        success(text: text.bytes)
    }

    private func success(text: [UInt8]) {
        if let interceptor { return interceptor.body(Answer(text: text, error: nil)) }
        guard let api = PluginHostLink.api else { return }
        text.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { api.pointee.reply(token, $0.baseAddress, $0.count) }
        }
    }

    public func failure(_ error: QMPError) {
        if let interceptor { return interceptor.body(Answer(text: nil, error: error)) }
        guard let api = PluginHostLink.api else { return }
        error.desc.withCString { api.pointee.reply_error(token, error.errorClass.abiValue, $0) }
    }

    public func callAsFunction(_ result: Result<JSONValue, QMPError>) {
        switch result {
        case .success(let value): success(value)
        case .failure(let error): failure(error)
        }
    }
}

extension QMPErrorClass {
    var abiValue: qmp_error_class {
        switch self {
        case .genericError: return QMP_ERROR_GENERIC
        case .commandNotFound: return QMP_ERROR_COMMAND_NOT_FOUND
        case .deviceNotActive: return QMP_ERROR_DEVICE_NOT_ACTIVE
        case .deviceNotFound: return QMP_ERROR_DEVICE_NOT_FOUND
        case .kvmMissingCap: return QMP_ERROR_KVM_MISSING_CAP
        }
    }
}

/// The host's function table, stored once per plugin image at `init()`.
enum PluginHostLink {
    /// Written once, before any VM's request (`PluginExport`'s `init`), and
    /// only read after: read per answer, so without a dynamic exclusivity
    /// check.
    @exclusivity(unchecked) nonisolated(unsafe) static var api: UnsafePointer<qmp_host_api>?
}
