import Synchronization
import QMPPluginABI
import QMPWire

/// What a Swift plugin binds in `register(_:)`. Handlers get the plugin
/// instance of the VM the request is for, and arguments the host has
/// already checked against the schema.
public final class PluginRegistry<P: QMPPlugin> {
    var commands: [(name: String, box: HandlerBox)] = []
    var devices: [(description: JSONValue, box: DriverBox)] = []
    var objectTypes: [(description: JSONValue, box: DriverBox)] = []
    /// Each guest action with its member map as JSON text, as the ABI takes it.
    var guestActions: [(name: String, arguments: String, box: HandlerBox)] = []
    var hmpInfo: [(name: String, box: HandlerBox)] = []

    init() {}

    /// A command that answers at once.
    public func command(_ name: String, _ body: @escaping (P, JSONObject) -> Result<JSONValue, QMPError>) {
        commands.append((name, HandlerBox { instance, args, reply in reply(body(unsafeDowncast(instance, to: P.self), args)) }))
    }

    /// A command that answers later through `Reply`.
    public func asyncCommand(_ name: String, _ body: @escaping (P, JSONObject, Reply) -> Void) {
        commands.append((name, HandlerBox { instance, args, reply in body(unsafeDowncast(instance, to: P.self), args, reply) }))
    }

    /// Makes the named commands, registered already, wait for `prepare` to
    /// call its continuation before their handlers run: work a handler
    /// needs done off the loop first, whose handler then stays synchronous
    /// (the block plugin reads image headers on a worker before
    /// `blockdev-add` opens them). `prepare` runs on the loop thread, and
    /// may call the continuation at once.
    public func prepare(_ names: Set<String>, with prepare: @escaping (P, JSONObject, @escaping () -> Void) -> Void) {
        self.prepare(names, answering: { instance, args, reply, run in prepare(instance, args) { run(reply) } })
    }

    /// Makes the named commands, registered already, run through
    /// `prepare`, which gets the request's reply and `run`, the handler
    /// answering to a reply `prepare` picks: the request's own, or one it
    /// `intercepted` to look at the answer first, and then `send` it or,
    /// after more work off the loop, `run` again (the block plugin probes
    /// an image the handler found unprobed, then runs it anew). `prepare`
    /// runs on the loop thread.
    public func prepare(_ names: Set<String>, answering prepare: @escaping (P, JSONObject, Reply, _ run: @escaping (Reply) -> Void) -> Void) {
        for index in commands.indices where names.contains(commands[index].name) {
            let handler = commands[index].box.body
            commands[index].box = HandlerBox { instance, args, reply in
                prepare(unsafeDowncast(instance, to: P.self), args, reply) { chosen in handler(instance, args, chosen) }
            }
        }
    }

    /// A device driver for device_add/device_del.
    ///
    /// `description` is `{"name": ..., "parent": ..., "bus": ..., "hotpluggable": ...,
    /// "properties": [{"name": ..., "type": ...}]}`. `add` gets the id (nil
    /// when the client gave none) and the properties; `remove` starts the
    /// unplug, and the plugin calls `vm.deviceDeleted(id)` once the guest has
    /// let go (at once, or later from a timer).
    public func device(
        _ description: JSONValue,
        add: @escaping (P, String?, JSONObject) -> Result<Void, QMPError>,
        remove: ((P, String) -> Result<Void, QMPError>)? = nil
    ) {
        devices.append((description, DriverBox(P.self, add: add, remove: remove)))
    }

    /// A device driver whose `add` is told the QOM path the host assigned
    /// to the new device (`NewDevice`): for a plugin that reports the path
    /// (query-hotpluggable-cpus, query-block, DEVICE_DELETED, device_del by
    /// path), so that it is the one qom-list shows.
    public func device(
        _ description: JSONValue,
        addDevice add: @escaping (P, NewDevice, JSONObject) -> Result<Void, QMPError>,
        remove: ((P, String) -> Result<Void, QMPError>)? = nil
    ) {
        device(description, addReporting: { this, device, props in add(this, device, props).map { [:] } }, remove: remove)
    }

    /// A device driver as `device(_:addDevice:remove:)`, whose `add` also
    /// answers the new device's property values as QEMU's `qom-get` reads
    /// them (defaults, a link's canonical path): the host keeps them as the
    /// device's properties, and the client's `device_add` gets `{}`.
    public func device(
        _ description: JSONValue,
        addReporting add: @escaping (P, NewDevice, JSONObject) -> Result<JSONObject, QMPError>,
        remove: ((P, String) -> Result<Void, QMPError>)? = nil
    ) {
        let fallback = DriverBox.Counter()
        devices.append((description, DriverBox(P.self, asyncAdd: { this, id, props, reply in
            reply(add(this, NewDevice.named(id, by: reply, fallback: fallback), props).map { .object($0) })
        }, remove: remove)))
    }

    /// A user-creatable QOM object type for object-add/object-del.
    public func objectType(
        _ description: JSONValue,
        add: @escaping (P, String?, JSONObject) -> Result<Void, QMPError>,
        remove: @escaping (P, String) -> Result<Void, QMPError>
    ) {
        objectTypes.append((description, DriverBox(P.self, add: add, remove: remove)))
    }

    /// An object type whose `add` answers later (it reads a file off the
    /// loop, as `secret` with `file=` does).
    public func objectType(
        _ description: JSONValue,
        asyncAdd add: @escaping (P, String?, JSONObject, Reply) -> Void,
        remove: @escaping (P, String) -> Result<Void, QMPError>
    ) {
        objectTypes.append((description, DriverBox(P.self, asyncAdd: add, remove: remove)))
    }

    /// Something the simulated guest does by itself, driven from the fleet
    /// control socket's `guest-action`. `arguments` is a QAPI member map.
    /// A plugin with a schema declares its actions there instead
    /// (`{"guest-action": ...}`) and binds `QAPI.<Name>GuestAction`.
    public func guestAction(_ name: String, arguments: JSONValue = [:], _ body: @escaping (P, JSONObject) -> Result<JSONValue, QMPError>) {
        guestAction(name, argumentsText: arguments.jsonText, body)
    }

    /// An HMP `info` command this plugin prints (`info network`), for
    /// human-monitor-command: `body` gives the text, lines ending in "\n".
    public func hmpInfo(_ name: String, _ body: @escaping (P) -> String) {
        hmpInfo.append((name, HandlerBox { instance, _, reply in reply(.success(.string(body(unsafeDowncast(instance, to: P.self))))) }))
    }

    func guestAction(_ name: String, argumentsText: String, _ body: @escaping (P, JSONObject) -> Result<JSONValue, QMPError>) {
        guestActions.append((name, argumentsText, HandlerBox { instance, args, reply in reply(body(unsafeDowncast(instance, to: P.self), args)) }))
    }
}

/// A type-erased handler, kept alive for the life of the process (the host
/// holds its address as user data). Its body gets an instance this
/// library's `vm_create` made (the host passes back only those), so the
/// registry's handlers take it as `P` by `unsafeDowncast` (checked in debug
/// builds): an `as!` was a dynamic cast per request.
final class HandlerBox {
    let body: (AnyObject, JSONObject, Reply) -> Void
    init(_ body: @escaping (AnyObject, JSONObject, Reply) -> Void) { self.body = body }
}

/// A type-erased device driver or object type.
final class DriverBox {
    /// Anonymous devices of one driver, for a host before ABI revision 6.
    final class Counter: Sendable { let value = Atomic<Int>(0) }

    let add: (AnyObject, String?, JSONObject, Reply) -> Void
    let remove: ((AnyObject, String) -> Result<Void, QMPError>)?
    /// The description's JSON text, kept as a C string for the host.
    var descriptionText: ContiguousArray<CChar> = []

    init<P>(_: P.Type, add: @escaping (P, String?, JSONObject) -> Result<Void, QMPError>, remove: ((P, String) -> Result<Void, QMPError>)?) {
        self.add = { instance, id, props, reply in
            switch add(instance as! P, id, props) {
            case .success: reply.success()
            case .failure(let error): reply.failure(error)
            }
        }
        self.remove = remove.map { r in { instance, id in r(instance as! P, id) } }
    }

    init<P>(_: P.Type, asyncAdd add: @escaping (P, String?, JSONObject, Reply) -> Void, remove: ((P, String) -> Result<Void, QMPError>)?) {
        self.add = { instance, id, props, reply in add(instance as! P, id, props, reply) }
        self.remove = remove.map { r in { instance, id in r(instance as! P, id) } }
    }
}
