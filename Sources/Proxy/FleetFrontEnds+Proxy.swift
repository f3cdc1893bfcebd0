import FleetCore

extension FleetFrontEnds {
    /// These front ends with proxied VMs (`backend: proxy`) served by `ProxyVM`.
    public func withProxies() -> FleetFrontEnds {
        var frontEnds = self
        frontEnds.makeProxy = { name, upstream, router throws(FleetError) in
            try ProxyVM(name: name, upstream: upstream, router: router)
        }
        return frontEnds
    }
}
