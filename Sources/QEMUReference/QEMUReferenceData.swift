import QMPWire

/// What QEMU 7.2 itself answered to the queries management software probes
/// an emulator with, recorded by `scripts/record-qemu-data` into
/// `Resources/qemu-7.2/probe.json`: QOM types, device and object property
/// lists, CPU models and their expansions, command-line option groups.
///
/// Static facts about the emulator binary, not VM state, so one copy serves
/// every VM; it is read at the first probe query (a fleet that is never
/// probed never parses it).
package final class QEMUReferenceData: Sendable {
    package let deviceProperties: [String: JSONValue]
    package let objectProperties: [String: JSONValue]
    package let qomTypes: [JSONValue]
    /// The names in `qomTypes`: every type the x86_64 binary has.
    package let typeNames: Set<String>
    /// Each type's parent, for `implements` along the parent chain.
    package let parents: [String: String]
    /// The types implementing each QOM interface (not in the parent chain).
    package let interfaceImplementers: [String: Set<String>]
    package let cpuDefinitions: JSONValue
    /// `query-machines` of the x86_64 binary.
    package let machines: JSONValue?
    package let cpuModelExpansions: [(arguments: JSONValue, reply: JSONValue)]
    package let commandLineOptions: [JSONValue]
    /// `query-version` of the recorded binary.
    package let version: JSONValue?
    /// The CPU type whose recorded property values stand for every x86 CPU class's.
    package static let x86CPUPropertySource = "qemu64-x86_64-cpu"
    /// Every readable property of a boot vCPU, by CPU type (`qom-get`).
    package let cpuPropertyValues: [String: JSONObject]
    /// For other x86 models (`-cpu Haswell`): what differs from
    /// `x86CPUPropertySource`'s values (model-id, family, feature words...).
    package let cpuPropertyDifferences: [String: JSONObject]

    /// The boot vCPU's property values for CPU type `type` (such as
    /// "Haswell-x86_64-cpu"), as QEMU 7.2 reports them under TCG; nil for a
    /// model that was not recorded.
    package func bootCPUPropertyValues(type: String) -> JSONObject? {
        if let values = cpuPropertyValues[type] { return values }
        guard var values = cpuPropertyValues[Self.x86CPUPropertySource], let differences = cpuPropertyDifferences[type] else {
            return nil
        }
        for (name, value) in differences { values[name] = value }
        return values
    }
    /// Whether type `name` is `ancestor` or implements it, as QOM's
    /// `object_class_dynamic_cast` answers for `qom-list-types`.
    package func isA(_ name: String, _ ancestor: String) -> Bool {
        if let implementers = interfaceImplementers[ancestor] { return implementers.contains(name) }
        var current: String? = name
        while let type = current {
            if type == ancestor { return true }
            current = parents[type]
        }
        return false
    }

    /// Whole replies of argument-less commands (their errors on a TCG host).
    package let replies: [String: JSONValue]
    /// QEMU's errors, by what provoked them.
    package let errors: [String: JSONValue]

    /// Loaded at first use; nil when the resource is missing or unreadable
    /// (the probe commands then fail with a GenericError saying so).
    package static let shared: QEMUReferenceData? = RecordedQEMUFile.probe.read().map(QEMUReferenceData.init)

    package init(_ value: JSONValue) {
        deviceProperties = value["device-properties"]?.objectValue.map { Dictionary(uniqueKeysWithValues: $0.members.map { ($0.key, $0.value) }) } ?? [:]
        objectProperties = value["object-properties"]?.objectValue.map { Dictionary(uniqueKeysWithValues: $0.members.map { ($0.key, $0.value) }) } ?? [:]
        qomTypes = value["qom-types"]?.arrayValue ?? []
        typeNames = Set(qomTypes.compactMap { $0["name"]?.stringValue })
        parents = Dictionary(qomTypes.compactMap { type in
            type["name"]?.stringValue.flatMap { name in type["parent"]?.stringValue.map { (name, $0) } }
        }, uniquingKeysWith: { first, _ in first })
        interfaceImplementers = value["interfaces"]?.objectValue.map {
            Dictionary(uniqueKeysWithValues: $0.members.map { member in
                (member.key, Set((member.value.arrayValue ?? []).compactMap(\.stringValue)))
            })
        } ?? [:]
        cpuDefinitions = value["cpu-definitions"] ?? .array([])
        machines = value["machines"]
        cpuModelExpansions = (value["cpu-model-expansions"]?.arrayValue ?? []).compactMap { entry in
            guard let arguments = entry["arguments"], let reply = entry["reply"] else { return nil }
            return (arguments, reply)
        }
        commandLineOptions = value["command-line-options"]?.arrayValue ?? []
        version = value["qemu-version"]
        cpuPropertyValues = value["cpu-property-values"]?.objectValue.map {
            Dictionary(uniqueKeysWithValues: $0.members.compactMap { member in member.value.objectValue.map { (member.key, $0) } })
        } ?? [:]
        cpuPropertyDifferences = value["cpu-property-differences"]?.objectValue.map {
            Dictionary(uniqueKeysWithValues: $0.members.compactMap { member in member.value.objectValue.map { (member.key, $0) } })
        } ?? [:]
        replies = value["replies"]?.objectValue.map { Dictionary(uniqueKeysWithValues: $0.members.map { ($0.key, $0.value) }) } ?? [:]
        errors = value["errors"]?.objectValue.map { Dictionary(uniqueKeysWithValues: $0.members.map { ($0.key, $0.value) }) } ?? [:]
    }
}
