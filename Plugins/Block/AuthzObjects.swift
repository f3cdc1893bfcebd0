import QMPPluginKit
import QMPWire

/// The authorization objects a TLS server names in `tls-authz`
/// (`authz-simple`: one identity; `authz-list`: rules and a default
/// policy), beside the TLS credentials and the NBD server that takes both.
/// QEMU 7.2 checks their members against the schema (an `identity` is
/// required, a policy is `allow` or `deny`) and nothing more at creation;
/// the host's schema check does that before they reach here.
extension BlockPlugin {
    static let authzTypes: [(name: String, properties: [String])] = [
        ("authz-simple", ["identity"]), ("authz-list", ["policy", "rules"]),
    ]

    static func registerAuthz(_ plugin: PluginRegistry<BlockPlugin>) {
        for type in authzTypes {
            plugin.objectType(["name": .string(type.name), "parent": "authz",
                               "properties": .array(type.properties.map { ["name": .string($0), "type": "str"] })],
                              asyncAdd: { this, id, props, reply in
                                  this.authzObjects.insert(id ?? "")
                                  // An authz-list's unset members as QEMU's qom-get reads them.
                                  reply.success(type.name == "authz-list"
                                      ? ["policy": props["policy"] ?? "deny", "rules": props["rules"] ?? .array([])] : [:])
                              },
                              remove: { this, id in this.authzObjects.remove(id); return .success(()) })
        }
    }
}
