/// The parts of a fleet that live in modules over FleetCore, handed to each
/// shard when it is made (the control socket, proxied VMs): FleetCore does
/// not import them, the program that builds the fleet does. What is left out is refused where it is asked for.
public struct FleetFrontEnds: Sendable {
    /// Makes a proxied VM (`backend: proxy`) on `router`'s loop; the Proxy
    /// module's `withProxies()` sets it.
    package typealias ProxyMaker = @Sendable (_ name: String, _ upstream: ProxyUpstream, _ owner: any ProxyOwner) throws(FleetError) -> any ProxiedVM

    /// Nil: a `backend: proxy` VM fails to start, saying so.
    package var makeProxy: ProxyMaker?

    /// Makes the control socket on `owner` (shard 0's router, or an
    /// unsharded fleet's); the FleetControl module's `withControlSocket()` sets it.
    package typealias ControlMaker = @Sendable (_ owner: any ControlOwner) throws(FleetError) -> any ControlService

    /// Nil: the fleet has no control socket.
    package var makeControl: ControlMaker?

    public init() {}
}
