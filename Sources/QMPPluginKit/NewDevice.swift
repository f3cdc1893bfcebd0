import QMPPluginABI
import QMPWire

/// The device a driver's `add` creates, as the host named it: its `id`
/// (nil when device_add gave none) and the QOM path the host assigned.
///
/// The host owns QOM paths: QEMU numbers `/machine/peripheral-anon/device[N]`
/// across every driver in one sequence, so a plugin that counted its own
/// anonymous devices would give a path qom-list does not have as soon as
/// another plugin's anonymous device came first. The path arrives through
/// the ABI's `request_qom_path` (revision 6).
///
/// Plugins keep it in their device structs, so a named device's path is
/// written when asked for, not kept (`PeripheralPath`): a path string in
/// each was 64 bytes of every named device of every VM.
public struct NewDevice: Sendable {
    public let id: String?
    /// The QOM path when it is not `/machine/peripheral/ID` (an anonymous
    /// device's).
    private let otherPath: String?

    /// `/machine/peripheral/ID` or `/machine/peripheral-anon/device[N]`.
    public var qomPath: String { otherPath ?? PeripheralPath.of(id: id ?? "") }

    public init(id: String?, qomPath: String) {
        self.init(id: id, otherPath: id.map { PeripheralPath.matches(qomPath, id: $0) } == true ? nil : qomPath)
    }

    private init(id: String?, otherPath: String?) {
        self.id = id
        self.otherPath = otherPath
    }

    /// Whether `path` is its QOM path (no path written for the question).
    public func hasQOMPath(_ path: String) -> Bool {
        if let otherPath { return otherPath == path }
        return id.map { PeripheralPath.matches(path, id: $0) } ?? false
    }

    /// A device the plugin's config creates (QEMU's command-line `-device`):
    /// `/machine/peripheral/ID`, or, without an id,
    /// `/machine/peripheral-anon/device[N]` with N the number of the
    /// plugin's configured devices without an id before it. The host keeps
    /// no record of those (`deviceRealized` takes an id), so they are
    /// numbered among themselves; a device_add's device gets its path from
    /// the host instead (`plugin.device(_:addDevice:remove:)`).
    public static func configured(id: String?, anonymousBefore n: Int) -> NewDevice {
        NewDevice(id: id, otherPath: id == nil ? "/machine/peripheral-anon/device[\(n)]" : nil)
    }

    /// The path the host gave the request; a host before revision 6 gives
    /// none, and then an anonymous device is numbered by `fallback`, a
    /// count of this driver's own devices (what plugins did before).
    static func named(_ id: String?, by reply: Reply, fallback: DriverBox.Counter) -> NewDevice {
        if let path = reply.assignedQOMPath { return NewDevice(id: id, qomPath: path) }
        return configured(id: id, anonymousBefore: id == nil ? fallback.value.add(1, ordering: .relaxed).oldValue : 0)
    }
}

extension Reply {
    /// The QOM path the host assigned to the device this add() request
    /// creates; nil from a host before ABI revision 6, or for a request
    /// that is not a device driver's add().
    var assignedQOMPath: String? {
        guard let api = PluginHostLink.api else { return nil }
        let offset = MemoryLayout<qmp_host_api>.offset(of: \qmp_host_api.request_qom_path) ?? Int.max
        guard Int(api.pointee.struct_size) >= offset + MemoryLayout<UnsafeRawPointer?>.size,
              let fn = api.pointee.request_qom_path, let path = fn(token) else { return nil }
        return String(cString: path)
    }
}
