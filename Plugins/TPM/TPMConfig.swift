import QMPPluginKit
import QMPWire

/// The plugin's section of a VM's config: the `-tpmdev` backends and the
/// `-device tpm-*,tpmdev=` frontends the VM starts with.
///
/// ```yaml
/// plugins:
///   tpm:
///     backends:
///       - {id: tpm0, type: emulator, chardev: chrtpm, model: tpm-crb}
///       - {id: tpm1, type: passthrough, path: /dev/tpm0, cancel-path: /sys/class/misc/tpm0/device/cancel}
/// ```
/// `model` names the frontend device (`tpm-tis`, `tpm-crb`; `tpm-tis-device`
/// on aarch64) plugged on that backend; a backend without one is not listed
/// by query-tpm, as in QEMU.
struct TPMConfig {
    struct Backend {
        var id: String
        var kind: TPMBackend.Kind
        var options: JSONObject
        var frontend: String?
    }

    var backends: [Backend] = []

    init(_ config: JSONValue) throws(PluginError) {
        guard let section = try PluginConfig.section(config, plugin: "tpm", keys: .expected(["backends"]),
                                                     notAMapping: "expected a mapping with 'backends'") else { return }
        for (i, object) in try PluginConfig.mappings(section["backends"], plugin: "tpm", key: "backends").enumerated() {
            backends.append(try TPMConfig.backend(object, index: i))
        }
    }

    private static func backend(_ object: JSONObject, index: Int) throws(PluginError) -> Backend {
        guard let id = object["id"]?.stringValue else { throw PluginError("tpm: backends[\(index)] needs an 'id'") }
        let typeName = object["type"]?.stringValue ?? ""
        guard let kind = TPMBackend.Kind(rawValue: typeName) else {
            throw PluginError("tpm: backends[\(index)]: Parameter 'type' does not accept value '\(typeName)'")
        }
        let allowed = ["id", "type", "model"] + TPMBackend.optionNames(kind)
        var options = JSONObject()
        for (key, value) in object {
            guard allowed.contains(key) else {
                throw PluginError("tpm: backends[\(index)]: Invalid parameter '\(key)'")
            }
            guard key != "id", key != "type", key != "model" else { continue }
            guard let text = value.stringValue else { throw PluginError("tpm: backends[\(index)]: '\(key)' must be a string") }
            options[key] = .string(text)
        }
        // QAPI declaration order: path before cancel-path.
        var ordered = JSONObject()
        for name in TPMBackend.optionNames(kind) where options[name] != nil { ordered[name] = options[name] }
        if kind == .emulator, ordered["chardev"] == nil {
            throw PluginError("tpm: backends[\(index)]: tpm-emulator: parameter 'chardev' is missing")
        }
        return Backend(id: id, kind: kind, options: ordered, frontend: object["model"]?.stringValue)
    }
}
