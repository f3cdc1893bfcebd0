import QMPWire

/// A VM of the fleet that is a real QEMU behind it (`backend: proxy`),
/// served by the Proxy module. The shard keeps it by name beside its
/// simulated VMs and needs only this of it.
///
/// Loop-confined: on its shard's loop.
package protocol ProxiedVM: AnyObject {
    var name: String { get }
    /// Its `vm-list` entry.
    var info: JSONValue { get }
    /// Lets go of QEMU (and stops it if the fleet started it); its clients close.
    func end()
}
