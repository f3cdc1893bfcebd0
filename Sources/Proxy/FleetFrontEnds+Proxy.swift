import FleetCore

extension FleetFrontEnds {
    /// These front ends with proxied VMs (`backend: proxy`) served by `ProxyVM`.
    public func withProxies() -> FleetFrontEnds {
        var frontEnds = self
        frontEnds.makeProxy = { name, upstream, owner throws(FleetError) in
            try ProxyVM(name: name, upstream: upstream, owner: owner)
        }
        return frontEnds
    }
}
