#if canImport(Glibc)
import Glibc
#endif
import QMPPluginKit
import QMPWire

/// The entropy sources a `virtio-rng-pci` device reads (`object-add`):
/// `rng-random` (a host file, /dev/urandom by default, opened off the
/// loop and held), `rng-builtin` (QEMU's own generator) and `rng-egd` (an
/// EGD server behind a chardev, which the object then uses as a device
/// would). They live in the chardev plugin beside their consumers: the
/// device that reads them, and, for `rng-egd`, the chardevs.
///
/// As in QEMU 7.2, `object-del` of a backend a device still uses succeeds:
/// the object leaves /objects but lives on, holding its file or chardev,
/// until the last device using it goes (the device holds a reference).
final class RngBackend {
    let id: String
    let type: String
    /// An `rng-random` object's file name.
    let filename: String?
    /// An `rng-random` object's open file.
    private var fd: Int32?
    /// An `rng-egd` object's chardev.
    private(set) weak var chardev: Chardev?
    /// Devices reading it.
    var users = 0
    /// object-del'd: gone from /objects, released once `users` is 0.
    var isDeleted = false

    init(id: String, type: String, filename: String? = nil, fd: Int32? = nil, chardev: Chardev? = nil) {
        self.id = id
        self.type = type
        self.filename = filename
        self.fd = fd
        self.chardev = chardev
    }

    /// An `rng-random` object's file, opened after the object was made
    /// (a live migration's target); closed at once if it was released.
    func attach(_ fd: Int32) {
        guard !isReleased, self.fd == nil else {
            Glibc.close(fd)
            return
        }
        self.fd = fd
    }

    private var isReleased = false

    /// Lets go of the file or chardev (the object is finalized).
    func release() {
        isReleased = true
        if let fd { Glibc.close(fd) }
        fd = nil
        if chardev?.frontend?.driver == RngBackend.egdType { chardev?.frontend = nil }
        chardev = nil
    }

    static let randomType = "rng-random"
    static let builtinType = "rng-builtin"
    static let egdType = "rng-egd"
    /// QEMU's default `filename` of `rng-random`.
    static let defaultFile = "/dev/urandom"
}

extension ChardevPlugin {
    static func registerRngBackends(_ plugin: PluginRegistry<ChardevPlugin>) {
        func description(_ type: String, _ properties: [String]) -> JSONValue {
            ["name": .string(type), "parent": "rng-backend",
             "properties": .array((["opened"] + properties).map { ["name": .string($0), "type": "str"] })]
        }
        plugin.objectType(description(RngBackend.randomType, ["filename"]),
                          asyncAdd: { this, id, props, reply in this.addRandom(id ?? "", props, reply: reply) },
                          remove: { this, id in this.deleteRngBackend(id) })
        plugin.objectType(description(RngBackend.builtinType, []),
                          asyncAdd: { this, id, props, reply in
                              reply.answer(this.addRngBackend(RngBackend(id: id ?? "", type: RngBackend.builtinType), props))
                          },
                          remove: { this, id in this.deleteRngBackend(id) })
        plugin.objectType(description(RngBackend.egdType, ["chardev"]),
                          asyncAdd: { this, id, props, reply in reply.answer(this.addEGD(id ?? "", props)) },
                          remove: { this, id in this.deleteRngBackend(id) })
    }

    /// `opened` is read-only in QEMU 7.2 (deprecated, set by completion).
    private static func openedRefusal(_ type: String, _ props: JSONObject) -> QMPError? {
        props["opened"] == nil ? nil : .generic("Property '\(type).opened' is not writable")
    }

    /// The backend's values as QEMU's qom-get reads them once it is
    /// complete (`opened` true, an rng-random's default `filename`).
    private func addRngBackend(_ backend: RngBackend, _ props: JSONObject) -> Result<JSONObject, QMPError> {
        if let refusal = Self.openedRefusal(backend.type, props) {
            backend.release()
            return .failure(refusal)
        }
        rngBackends[backend.id] = backend
        var values: JSONObject = ["opened": true]
        if let filename = backend.filename { values["filename"] = .string(filename) }
        if let chardev = backend.chardev { values["chardev"] = .string(chardev.id) }
        return .success(values)
    }

    /// `rng_random_opened`: the file opened read-only, off the loop.
    func addRandom(_ id: String, _ props: JSONObject, reply: Reply) {
        if let refusal = Self.openedRefusal(RngBackend.randomType, props) { return reply.failure(refusal) }
        let path = props["filename"]?.stringValue ?? RngBackend.defaultFile
        vm.openFile(path, flags: O_RDONLY, for: reply) { [weak self] opened in
            switch opened {
            case .failure(let error): reply.failure(error)
            case .success(let fd):
                // Another client's object-add of the id may have ended first.
                guard let self, self.rngBackends[id] == nil else {
                    Glibc.close(fd)
                    return reply.failure(.generic("attempt to add duplicate property '\(id)' to object (type 'container')"))
                }
                reply.answer(self.addRngBackend(RngBackend(id: id, type: RngBackend.randomType, filename: path, fd: fd), [:]))
            }
        }
    }

    /// `rng-egd`: its chardev must exist (set) and be free (completion).
    func addEGD(_ id: String, _ props: JSONObject) -> Result<JSONObject, QMPError> {
        if let refusal = Self.openedRefusal(RngBackend.egdType, props) { return .failure(refusal) }
        let name = props["chardev"]?.stringValue ?? ""
        guard let chardev = chardev(name) else { return .failure(.deviceNotFound(name)) }
        guard !chardev.isInUse else { return .failure(.generic("Device '\(name)' is in use")) }
        // rng-egd opens its chardev's frontend at once (query-chardev shows it open).
        chardev.frontend = ChardevFrontend(deviceID: nil, driver: RngBackend.egdType, isOpen: true)
        return addRngBackend(RngBackend(id: id, type: RngBackend.egdType, chardev: chardev), props)
    }

    func deleteRngBackend(_ id: String) -> Result<Void, QMPError> {
        guard let backend = rngBackends.removeValue(forKey: id) else { return .failure(.generic("object '\(id)' not found")) }
        backend.isDeleted = true
        if backend.users == 0 { backend.release() }
        return .success(())
    }
}

extension Reply {
    /// An object type's answer: the new object's values, or the refusal.
    func answer(_ result: Result<JSONObject, QMPError>) {
        switch result {
        case .success(let values): success(.object(values))
        case .failure(let error): failure(error)
        }
    }
}
