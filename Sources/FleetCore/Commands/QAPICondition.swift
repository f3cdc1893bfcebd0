import QMPWire

/// A QAPI `if` condition on a core declaration, as far as it names QEMU
/// targets: `"TARGET_I386"`, `{"any": [...]}`, `{"all": [...]}`, `{"not": ...}`.
/// Only target macros decide; any other macro (CONFIG_*) holds.
enum QAPICondition {
    /// The target macros each `query-target` arch defines.
    static func macros(of target: String) -> Set<String> {
        switch target {
        case "x86_64": ["TARGET_I386", "TARGET_X86_64"]
        case "i386": ["TARGET_I386"]
        case "aarch64": ["TARGET_ARM", "TARGET_AARCH64"]
        case "arm": ["TARGET_ARM"]
        case "s390x": ["TARGET_S390X"]
        case "ppc64": ["TARGET_PPC", "TARGET_PPC64"]
        default: ["TARGET_" + target.uppercased()]
        }
    }

    /// Whether `condition` (nil: no `if`) holds on `target`.
    static func holds(_ condition: JSONValue?, target: String) -> Bool {
        guard let condition else { return true }
        if let name = condition.stringValue {
            return !name.hasPrefix("TARGET_") || macros(of: target).contains(name)
        }
        if case .array(let list)? = condition["any"] { return list.contains { holds($0, target: target) } }
        if case .array(let list)? = condition["all"] { return list.allSatisfy { holds($0, target: target) } }
        if let inner = condition["not"] { return !holds(inner, target: target) }
        return true
    }
}
