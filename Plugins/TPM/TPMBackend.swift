import QMPWire

/// A `-tpmdev` backend: where TPM commands would go on the host.
///
/// QEMU keeps the options exactly as given (a passthrough backend without
/// `path` opens /dev/tpm0 but does not report it), so only the given
/// members are stored and shown by query-tpm.
final class TPMBackend {
    enum Kind: String, CaseIterable {
        case passthrough
        case emulator
    }

    let id: String
    let kind: Kind
    /// `path` and `cancel-path` (passthrough) or `chardev` (emulator).
    let options: JSONObject
    /// The frontend model bound to this backend (`tpmdev=` of a TPM device),
    /// nil while no device uses it: query-tpm skips such backends.
    var frontendModel: TPMModel?

    init(id: String, kind: Kind, options: JSONObject) {
        self.id = id
        self.kind = kind
        self.options = options
    }

    /// The backend's members a config may give, by type.
    static func optionNames(_ kind: Kind) -> [String] {
        switch kind {
        case .passthrough: return ["path", "cancel-path"]
        case .emulator: return ["chardev"]
        }
    }

    /// `TPMInfo`, members in declaration order; nil without a frontend.
    var info: JSONValue? {
        guard let model = frontendModel else { return nil }
        return [
            "id": .string(id),
            "model": .string(model.rawValue),
            "options": ["type": .string(kind.rawValue), "data": .object(options)],
        ]
    }
}
