#if canImport(Glibc)
import Glibc
#endif
import QMPPluginKit
import QMPWire

/// The TLS credentials objects (`tls-creds-anon`, `tls-creds-x509`,
/// `tls-creds-psk`) with the checks QEMU 7.2 makes of `dir` when one is
/// created. They live beside `secret` (an x509 credential's `passwordid`
/// names one) in the plugin whose NBD server takes `tls-creds`.
///
/// What is checked, in QEMU's order (`qcrypto_tls_creds_get_path`: each
/// file `access`ed, a missing optional one skipped): x509 and psk need
/// `dir` ("Missing 'dir' property value"); x509 wants `ca-cert.pem`, and a
/// server also `ca-crl.pem` (optional), `server-cert.pem`, `server-key.pem`,
/// `dh-params.pem` (optional), a client `client-cert.pem` and
/// `client-key.pem` (both optional); psk wants `keys.psk`, whose client
/// must hold its `username` (default "qemu"); anon reads nothing it needs.
/// Files are opened off the loop through the VM's file policy. Unlike QEMU,
/// certificates are not parsed beyond their PEM armour: a CA file with no
/// PEM certificate is refused with QEMU's text, a malformed one inside the
/// armour is not.
struct TLSCredentials {
    let id: String
    let type: String

    static let anonType = "tls-creds-anon"
    static let x509Type = "tls-creds-x509"
    static let pskType = "tls-creds-psk"
    static let defaultPSKUsername = "qemu"

    /// The files `type` reads for `endpoint`, in QEMU's order: (name, required).
    static func files(_ type: String, server: Bool) -> [(name: String, required: Bool)] {
        switch type {
        case x509Type where server:
            [("ca-cert.pem", true), ("ca-crl.pem", false), ("server-cert.pem", true), ("server-key.pem", true), ("dh-params.pem", false)]
        case x509Type: [("ca-cert.pem", true), ("client-cert.pem", false), ("client-key.pem", false)]
        case pskType where server: [("keys.psk", true), ("dh-params.pem", false)]
        case pskType: [("keys.psk", true)]
        default: []
        }
    }
}

extension BlockPlugin {
    static func registerTLSCredentials(_ plugin: PluginRegistry<BlockPlugin>) {
        let common = ["verify-peer", "dir", "endpoint", "priority", "loaded"]
        let types: [(String, [String])] = [(TLSCredentials.anonType, common), (TLSCredentials.x509Type, common + ["sanity-check", "passwordid"]),
                                           (TLSCredentials.pskType, common + ["username"])]
        for (type, properties) in types {
            plugin.objectType(["name": .string(type), "parent": "tls-creds",
                               "properties": .array(properties.map { ["name": .string($0), "type": "str"] })],
                              asyncAdd: { this, id, props, reply in this.addTLSCredentials(type, id ?? "", props, reply: reply) },
                              remove: { this, id in this.tlsCredentials[id] = nil; return .success(()) })
        }
    }

    func addTLSCredentials(_ type: String, _ id: String, _ props: JSONObject, reply: Reply) {
        let server = props["endpoint"]?.stringValue == "server"
        let dir = props["dir"]?.stringValue
        let files = TLSCredentials.files(type, server: server)
        guard !files.isEmpty else { return credentialsLoaded(type, id, props, reply: reply) }
        guard let dir else { return reply.failure(.generic("Missing 'dir' property value")) }
        checkCredentialFiles(files[...], dir: dir, reply: reply) { [weak self] opened in
            guard let self else { return opened.values.forEach { Glibc.close($0) } }
            self.readCredentials(type, id, props, dir: dir, opened, reply: reply)
        }
    }

    /// Opens each file in turn (a missing optional one is skipped), then
    /// `done` with the descriptors of those that opened; a refusal answers.
    private func checkCredentialFiles(_ files: ArraySlice<(name: String, required: Bool)>, dir: String, reply: Reply,
                                      opened: [String: Int32] = [:], done: @escaping ([String: Int32]) -> Void) {
        guard let file = files.first else { return done(opened) }
        let path = "\(dir)/\(file.name)"
        // Dropped (the request timed out or the VM ended while this file
        // opened): nothing takes the files opened before it, so they close.
        vm.openFile(path, flags: O_RDONLY, for: reply, cancelled: { opened.values.forEach { Glibc.close($0) } }) { [weak self] result in
            var opened = opened
            switch result {
            case .success(let fd): opened[file.name] = fd
            case .failure(let error):
                let reason = OpenFailure.reason(error.desc)
                guard !file.required && reason == String(cString: strerror(ENOENT)) else {
                    opened.values.forEach { Glibc.close($0) }
                    return reply.failure(.generic("Unable to access credentials \(path): \(reason)"))
                }
            }
            guard let self else { return opened.values.forEach { Glibc.close($0) } }
            self.checkCredentialFiles(files.dropFirst(), dir: dir, reply: reply, opened: opened, done: done)
        }
    }

    /// What QEMU reads of the files before it is done: an x509 CA list's
    /// certificates, a psk client's key line for its username.
    private func readCredentials(_ type: String, _ id: String, _ props: JSONObject, dir: String, _ opened: [String: Int32], reply: Reply) {
        let key: String
        switch type {
        case TLSCredentials.x509Type: key = "ca-cert.pem"
        case TLSCredentials.pskType where props["endpoint"]?.stringValue != "server": key = "keys.psk"
        default: key = ""
        }
        for (name, fd) in opened where name != key { Glibc.close(fd) }
        guard let fd = opened[key] else { return credentialsLoaded(type, id, props, reply: reply) }
        let contents = FileContents(fd: fd)
        vm.offload({ contents.read(limit: SecretObject.maxFileSize) }, then: { [weak self] in
            let text = String(decoding: contents.bytes, as: UTF8.self)
            let path = "\(dir)/\(key)"
            if type == TLSCredentials.x509Type, !text.contains("-----BEGIN CERTIFICATE-----") {
                return reply.failure(.generic("Unable to import CA certificate list \(path)"))
            }
            if type == TLSCredentials.pskType {
                let username = props["username"]?.stringValue ?? TLSCredentials.defaultPSKUsername
                let found = text.split(whereSeparator: \.isNewline).contains { $0.hasPrefix("\(username):") }
                guard found else { return reply.failure(.generic("Username \(username) not found in PSK file \(path)")) }
            }
            self?.credentialsLoaded(type, id, props, reply: reply)
        })
    }

    /// Keeps the credentials and answers their values as QEMU's qom-get
    /// reads them (`loaded` true; an unset `dir` or `priority` is "").
    private func credentialsLoaded(_ type: String, _ id: String, _ props: JSONObject, reply: Reply) {
        tlsCredentials[id] = TLSCredentials(id: id, type: type)
        reply.success(["endpoint": props["endpoint"] ?? "client", "verify-peer": props["verify-peer"] ?? true,
                       "dir": props["dir"] ?? "", "priority": props["priority"] ?? "", "loaded": true])
    }
}
