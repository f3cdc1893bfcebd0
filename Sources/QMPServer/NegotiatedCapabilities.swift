/// What a client asked for with `qmp_capabilities`, as its host read it.
public struct NegotiatedCapabilities: Sendable, Equatable {
    /// `oob`: requests may carry `exec-oob` (QEMU 7.2's only capability).
    public var outOfBand: Bool

    public init(outOfBand: Bool) { self.outOfBand = outOfBand }
}
