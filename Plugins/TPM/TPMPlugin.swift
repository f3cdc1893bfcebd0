import QMPPluginKit
import QMPWire

/// TPM devices as QEMU's `tpm.json` serves them: query-tpm, query-tpm-models,
/// query-tpm-types, and the frontend drivers.
///
/// Backends (`-tpmdev`) and their frontends (`-device tpm-crb,tpmdev=...`)
/// come from the config only: QEMU 7.2 has no QMP command that creates a
/// backend, and none of its TPM devices can be hot-plugged, so device_add of
/// `tpm-tis`/`tpm-crb` fails with QEMU's own text.
///
/// Config keys (`plugins: {tpm: ...}`):
/// - `backends`: list of `{id, type: passthrough|emulator, path, cancel-path,
///   chardev, model}`; `model` is the frontend device on that backend
///   (`tpm-tis`, `tpm-crb`; `tpm-tis-device` on aarch64). At most one frontend.
final class TPMPlugin: QMPPlugin {
    static let name = "tpm"
    static var schema: [UInt8] { PackageResources.schema_json }

    let vm: PluginVM
    /// Backends in creation order (QEMU's `tpm_backends` list).
    var backends: [TPMBackend] = []
    let arch: String

    init(vm: PluginVM, config: JSONValue) throws(PluginError) {
        self.vm = vm
        arch = vm.machine.arch
        let config = try TPMConfig(config)
        for entry in config.backends {
            guard !backends.contains(where: { $0.id == entry.id }) else {
                throw PluginError("tpm: Duplicate ID '\(entry.id)' for tpmdev")
            }
            backends.append(TPMBackend(id: entry.id, kind: entry.kind, options: entry.options))
        }
        for entry in config.backends {
            guard let driver = entry.frontend else { continue }
            if let error = coldPlug(driver: driver, tpmdev: entry.id) { throw PluginError("tpm: -device \(driver): \(error)") }
        }
    }

    /// `-device <driver>,tpmdev=<id>` at start-up, with QEMU's checks.
    private func coldPlug(driver: String, tpmdev: String) -> String? {
        guard let type = TPMFrontendType.available(arch: arch).first(where: { $0.driver == driver }) else {
            return "'\(driver)' is not a valid device model name"
        }
        guard let backend = backends.first(where: { $0.id == tpmdev }) else {
            return "Property '\(driver).tpmdev' can't find value '\(tpmdev)'"
        }
        guard backend.frontendModel == nil else { return "TPM backend '\(tpmdev)' is already initialized" }
        guard !backends.contains(where: { $0.frontendModel != nil }) else { return "at most one TPM device is permitted" }
        backend.frontendModel = type.model
        return nil
    }

    func queryTPM() -> Result<JSONValue, QMPError> {
        .success(.array(backends.compactMap(\.info)))
    }

    static func register(_ plugin: PluginRegistry<TPMPlugin>) {
        plugin.command(QAPI.QueryTpmCommand.self) { this, _ in this.queryTPM() }
        plugin.command(QAPI.QueryTpmModelsCommand.self) { this, _ in
            .success(.array(TPMFrontendType.models(arch: this.arch).map { .string($0.rawValue) }))
        }
        plugin.command(QAPI.QueryTpmTypesCommand.self) { _, _ in
            .success(.array(TPMBackend.Kind.allCases.map { .string($0.rawValue) }))
        }
        for type in TPMFrontendType.all {
            plugin.device(type.description, add: { this, _, _ in this.hotplug(type) })
        }
    }

    /// device_add after start-up: refused as QEMU 7.2 refuses it (an
    /// x86-only driver on an Arm VM is not a device model there at all).
    private func hotplug(_ type: TPMFrontendType) -> Result<Void, QMPError> {
        guard TPMFrontendType.available(arch: arch).contains(where: { $0.driver == type.driver }) else {
            return .failure(.generic("'\(type.driver)' is not a valid device model name"))
        }
        return .failure(.generic(type.hotplugError))
    }
}

@_cdecl("qmp_plugin_entry")
public func qmpPluginEntry() -> UnsafeRawPointer { PluginExport.descriptor(for: TPMPlugin.self) }
