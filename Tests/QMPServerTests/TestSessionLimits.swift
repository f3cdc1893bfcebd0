import QMPServer
import QMPWire

extension SessionLimits {
    /// The limits of this target's test hosts (hosts that are neither a VM
    /// nor the control socket), written once so a new limit is added in one
    /// place: QEMU's JSON limits, 1 MiB of output and of parser memory, 8
    /// pending commands and 4 descriptors a session, a second to stall or
    /// to flush. A host names only the two its tests turn:
    /// `negotiationTimeoutMilliseconds` (0: none) and `sessionTurnMicroseconds`.
    static func testHost(negotiationTimeoutMilliseconds: UInt64 = 1000,
                         sessionTurnMicroseconds: UInt64 = 1000) -> SessionLimits {
        SessionLimits(json: .qemu, sessionOutputBytes: 1 << 20, pendingCommandsPerSession: 8, fdsPerSession: 4,
                      sessionOutputStallMilliseconds: 1000, finalFlushMilliseconds: 1000,
                      negotiationTimeoutMilliseconds: negotiationTimeoutMilliseconds, parserBytesPerFleet: 1 << 20,
                      sessionTurnMicroseconds: sessionTurnMicroseconds)
    }
}
