/// The parts of a fleet that live in modules over FleetCore, handed to each
/// shard when it is made: FleetCore does not import them, the program that
/// builds the fleet does. What is left out is refused where it is asked for.
public struct FleetFrontEnds: Sendable {
    /// Makes a proxied VM (`backend: proxy`) on `router`'s loop; the Proxy
    /// module's `withProxies()` sets it.
    package typealias ProxyMaker = @Sendable (_ name: String, _ upstream: ProxyUpstream, _ router: Router) throws(FleetError) -> any ProxiedVM

    /// Nil: a `backend: proxy` VM fails to start, saying so.
    package var makeProxy: ProxyMaker?

    public init() {}
}
