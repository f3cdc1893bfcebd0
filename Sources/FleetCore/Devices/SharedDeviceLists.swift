/// The realized-device lists a loop's VMs share: the VMs of a template
/// realize the same configured devices (same ids, drivers, properties,
/// places on the bus), so the second VM's list is equal to the first's and
/// takes its storage instead of keeping its own (`DeviceRegistry.settle`).
/// A VM that then adds or removes a device copies the list first (an
/// array's copy on write), so sharing changes nothing a VM sees.
///
/// Each list was 248 bytes of every VM of the bench's plugin set (three
/// configured devices: 2.4 MB of 10,000 VMs). Only the most recent lists
/// are kept here (a fleet has few templates); the VMs keep theirs.
///
/// Loop-confined: its router's.
final class SharedDeviceLists {
    /// Lists kept.
    static let capacity = 8

    private var lists: [[Device]] = []

    /// A kept list equal to `devices`, moved to the front; nil if none is.
    func equal(to devices: [Device]) -> [Device]? {
        guard let index = lists.firstIndex(where: { $0 == devices }) else { return nil }
        let list = lists.remove(at: index)
        lists.insert(list, at: 0)
        return list
    }

    /// Keeps `devices` for the VMs after this one.
    func keep(_ devices: [Device]) {
        lists.insert(devices, at: 0)
        if lists.count > Self.capacity { lists.removeLast() }
    }
}
