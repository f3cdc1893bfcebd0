import QMPServer
/// The fleet's control socket (`<socket-dir>/fleet.qmp`), served by the
/// FleetControl module on shard 0's router. The router makes it through
/// `FleetFrontEnds.makeControl` and tells it only this.
///
/// Loop-confined: on shard 0's loop.
package protocol ControlService: AnyObject {
    /// An in-process control client (QMPFleetTesting).
    func attach(transport: any SessionTransport) -> Session
    /// VM `name`, the `sequence`th created, ended (on any shard): the
    /// emulator session that handed it over closes.
    func vmEnded(named name: String, sequence: Int)
    /// The fleet is ending: the socket and its clients close.
    func close()
}
