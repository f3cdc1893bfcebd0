import QMPWire

/// Out-of-band execution, as QEMU 7.2's monitor does it.
///
/// With the `oob` capability enabled, a request with `exec-oob` (and no
/// `execute`) is not queued: it runs as soon as it is read, so it overtakes
/// the in-band requests queued before it, and even one in flight. Only
/// commands whose schema says `allow-oob` run this way (7.2: `yank`,
/// `query-yank`, `migrate-pause`, `migrate-recover`); the others get QEMU's
/// GenericError "The command query-status does not support OOB", also at
/// once. Errors in the request itself are answered at once too, as QEMU's
/// I/O thread answers them. Without the capability `exec-oob` is an
/// unexpected member, answered in order like any bad request.
extension Session {
    /// QEMU's `qmp_is_oob`: the request has `exec-oob` and no `execute`.
    static func isOutOfBand(_ value: JSONValue) -> Bool {
        guard case .object(let object) = value else { return false }
        return object["exec-oob"] != nil && object["execute"] == nil
    }

    func runOutOfBand(_ value: JSONValue) {
        guard let host else { return }
        switch QMPRequest.decode(value, oobEnabled: true) {
        case .failure(let error):
            send(QMPMessage.failure(error.error, id: error.id))
        case .success(let request):
            dispatchOutOfBand(request, host: host)
        }
    }

    /// Runs `request` beside whatever is in flight; its reply goes out as
    /// soon as it is ready. It takes no passed descriptors (they stay for
    /// the next in-band command).
    func dispatchOutOfBand(_ request: QMPRequest, host: any SessionHost) {
        if request.execute == "qmp_capabilities" {
            // The session answers it, and its schema has no allow-oob.
            send(QMPMessage.failure(.commandWithoutOOB("qmp_capabilities"), id: request.id))
            return
        }
        let call = CommandCall(request: request, session: self, fileDescriptors: [])
        outOfBandInFlight += 1
        // The call holds the session strongly (`CommandCall.session`): no
        // weak reference, so no side table on the session.
        host.dispatch(call) { result in
            guard !call.isAnswered else { return }
            call.isAnswered = true
            call.closeUnusedFileDescriptors()
            guard let session = call.session else { return }
            session.outOfBandInFlight -= 1
            if !call.isReplyDropped { session.send(QMPMessage.reply(result, id: call.request.id)) }
            session.pump()
        }
    }
}
