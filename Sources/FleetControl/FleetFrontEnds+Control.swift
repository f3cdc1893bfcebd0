import FleetCore

extension FleetFrontEnds {
    /// These front ends with the fleet's control socket (`fleet.qmp`),
    /// served by `ControlPlane`.
    public func withControlSocket() -> FleetFrontEnds {
        var frontEnds = self
        frontEnds.makeControl = { owner throws(FleetError) in try ControlPlane(owner: owner) }
        return frontEnds
    }
}
