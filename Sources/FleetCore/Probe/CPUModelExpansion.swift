import QAPIRuntime
import QEMUReference
import QMPWire

/// `query-cpu-model-expansion` from QEMU 7.2's recorded expansions.
///
/// The model must exist ("CPU model 'X' not found"), then each of `props`
/// must be a property of its CPU class with a value of the right JSON type
/// ("Property 'max-x86_64-cpu.nosuch' not found", "Invalid parameter type
/// for 'sse', expected: boolean"), as QEMU checks them before expanding.
/// Expansions are the recorded ones: exact arguments first (errors such as
/// `host` under TCG included), else the same type and model with the asked
/// props applied on top.
enum CPUModelExpansion {
    /// `asked` is the request's arguments as given: the key the recorded
    /// expansions are found by.
    static func expand(_ data: QEMUReferenceData, _ args: QAPI.QueryCpuModelExpansionCommand, asked: JSONObject) -> CommandResult {
        if let exact = data.cpuModelExpansions.first(where: { $0.arguments == .object(asked) }) {
            return QEMUReferenceData.result(exact.reply)
        }
        let name = args.model.name
        guard let definition = data.cpuDefinitions.arrayValue?.first(where: { $0["name"]?.stringValue == name }) else {
            return .failure(.generic("CPU model '\(name)' not found"))
        }
        if case .object(let props)? = args.model.props,
           let error = check(props, typeName: definition["typename"]?.stringValue ?? "\(name)-x86_64-cpu", data) {
            return .failure(error)
        }
        return recorded(data, args, asked: asked)
    }

    /// Every x86 CPU class has the same properties: those QEMU 7.2 reads
    /// back from its boot vCPU (recorded), whose values give their types.
    static func check(_ props: JSONObject, typeName: String, _ data: QEMUReferenceData) -> QMPError? {
        guard let known = data.cpuPropertyValues[QEMUReferenceData.x86CPUPropertySource] else { return nil }
        for (key, value) in props {
            guard let current = known[key] else { return .generic("Property '\(typeName).\(key)' not found") }
            if let mismatch = QOMSet.typeMismatch(key, current: current, new: value) { return mismatch }
        }
        return nil
    }

    /// The recorded expansion for these arguments, else for the same type
    /// and model without `props` (which QEMU applies on top).
    static func recorded(_ data: QEMUReferenceData, _ args: QAPI.QueryCpuModelExpansionCommand, asked: JSONObject) -> CommandResult {
        if let exact = data.cpuModelExpansions.first(where: { $0.arguments == .object(asked) }) {
            return QEMUReferenceData.result(exact.reply)
        }
        let type: String? = args.type.rawValue
        let name = args.model.name
        guard let base = data.cpuModelExpansions.first(where: {
            $0.arguments["type"]?.stringValue == type && $0.arguments["model"]?["name"]?.stringValue == name && $0.arguments["model"]?["props"] == nil
        }) else {
            let known = data.cpuDefinitions.arrayValue?.contains { $0["name"]?.stringValue == name } ?? false
            return known
                ? .failure(.generic("qmpfleet has no recorded \(type ?? "") expansion of CPU model '\(name)'"))
                : .failure(.generic("CPU model '\(name)' not found"))
        }
        guard case .success(let value) = QEMUReferenceData.result(base.reply),
              case .object(var result) = value, case .object(var model)? = result["model"],
              case .object(let extra)? = args.model.props else {
            return QEMUReferenceData.result(base.reply)
        }
        var props = model["props"]?.objectValue ?? [:]
        for (key, value) in extra.members where props[key] != nil { props[key] = value }
        model["props"] = .object(props)
        result["model"] = .object(model)
        return .success(.object(result))
    }
}