import QMPWire

/// The bounds one client's session keeps, taken from its host (the fleet's
/// `limits:`, FleetCore's `Limits.session`); their meaning and defaults are
/// `Limits`' and docs/security.md's.
public struct SessionLimits: Sendable, Equatable {
    public var json: JSONLimits
    public var sessionOutputBytes: Int
    public var pendingCommandsPerSession: Int
    public var fdsPerSession: Int
    public var sessionOutputStallMilliseconds: UInt64
    public var finalFlushMilliseconds: UInt64
    public var negotiationTimeoutMilliseconds: UInt64
    public var parserBytesPerFleet: Int
    public var sessionTurnMicroseconds: UInt64

    public init(json: JSONLimits, sessionOutputBytes: Int, pendingCommandsPerSession: Int, fdsPerSession: Int,
                sessionOutputStallMilliseconds: UInt64, finalFlushMilliseconds: UInt64,
                negotiationTimeoutMilliseconds: UInt64, parserBytesPerFleet: Int, sessionTurnMicroseconds: UInt64) {
        self.json = json
        self.sessionOutputBytes = sessionOutputBytes
        self.pendingCommandsPerSession = pendingCommandsPerSession
        self.fdsPerSession = fdsPerSession
        self.sessionOutputStallMilliseconds = sessionOutputStallMilliseconds
        self.finalFlushMilliseconds = finalFlushMilliseconds
        self.negotiationTimeoutMilliseconds = negotiationTimeoutMilliseconds
        self.parserBytesPerFleet = parserBytesPerFleet
        self.sessionTurnMicroseconds = sessionTurnMicroseconds
    }
}
