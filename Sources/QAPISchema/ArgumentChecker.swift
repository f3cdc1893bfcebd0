import QMPWire

/// QEMU's QObject input visitor (qapi/qobject-input-visitor.c) reduced to
/// what it checks: members present, types, enum values and integer ranges,
/// unions by discriminator, alternates by JSON type, no unexpected members.
///
/// The first problem wins, found in the order QEMU visits: declared members
/// in declaration order (a union's base, then its variant), each nested
/// object checked for unexpected members as soon as its own members are
/// done. Texts name members as QEMU does: most use the full path
/// (`keys[0].data`), but enum values, integer ranges and alternates use the
/// member's own name, and `null` for a list element.
struct ArgumentChecker {
    let view: SchemaView

    /// Where a value sits: the full path, and the name its visit got.
    struct Location {
        let fullName: String
        /// nil for a list element (QEMU passes a NULL name and prints "null").
        let shortName: String?

        var shortText: String { shortName ?? "null" }

        func member(_ name: String) -> Location {
            Location(fullName: fullName.isEmpty ? name : "\(fullName).\(name)", shortName: name)
        }

        func element(_ index: Int) -> Location {
            Location(fullName: "\(fullName)[\(index)]", shortName: nil)
        }

        static let root = Location(fullName: "", shortName: nil)
    }

    func checkObject(_ object: JSONObject, typeName: String, at location: Location, allowExtra: Bool) throws(QMPError) {
        guard case .object(_, let members, _, _, _)? = view.type(named: typeName) else { return }
        var visited: [String] = []
        try visitMembers(object, members: members, typeName: typeName, at: location, visited: &visited)
        if !allowExtra { try checkUnexpected(object, visited: visited, at: location) }
    }

    /// Visits an object type's members, then the members of the variant its
    /// discriminator selects (variants may be unions themselves).
    private func visitMembers(_ object: JSONObject, members: [SchemaMember], typeName: String, at location: Location, visited: inout [String]) throws(QMPError) {
        try visit(object, members: members, at: location, visited: &visited)
        guard case .object(_, _, let discriminator?, let variants, _)? = view.type(named: typeName),
              let tag = object[discriminator]?.stringValue,
              let variant = variants.first(where: { $0.name == tag }),
              case .object(_, let variantMembers, _, _, _)? = view.type(named: variant.type.name) else { return }
        try visitMembers(object, members: variantMembers, typeName: variant.type.name, at: location, visited: &visited)
    }

    private func visit(_ object: JSONObject, members: [SchemaMember], at location: Location, visited: inout [String]) throws(QMPError) {
        for member in members {
            let here = location.member(member.name)
            guard let value = object[member.name] else {
                if member.isOptional { continue }
                throw QMPError.generic("Parameter '\(here.fullName)' is missing")
            }
            visited.append(member.name)
            try checkValue(value, type: member.type, at: here)
        }
    }

    /// Checks members given against a plain member list (no type name).
    func checkMembers(_ object: JSONObject, members: [SchemaMember], allowExtra: Bool) throws(QMPError) {
        var visited: [String] = []
        try visit(object, members: members, at: .root, visited: &visited)
        if !allowExtra { try checkUnexpected(object, visited: visited, at: .root) }
    }

    /// `visit_check_struct`: the first key no member consumed, as QEMU's
    /// hash table of unvisited keys yields it.
    private func checkUnexpected(_ object: JSONObject, visited: [String], at location: Location) throws(QMPError) {
        guard object.count > visited.count else { return }
        var table = UnvisitedMembers(object)
        for name in visited { table.remove(name) }
        if let key = table.first {
            throw QMPError.generic("Parameter '\(location.member(key).fullName)' is unexpected")
        }
    }

    private func typeError(_ location: Location, _ expected: String) -> QMPError {
        .generic("Invalid parameter type for '\(location.fullName)', expected: \(expected)")
    }

    func checkValue(_ value: JSONValue, type: TypeReference, at location: Location) throws(QMPError) {
        switch type {
        case .array(let element):
            guard case .array(let items) = value else { throw typeError(location, "array") }
            for (i, item) in items.enumerated() {
                try checkValue(item, type: element, at: location.element(i))
            }
        case .named(let typeName):
            if let builtin = BuiltinType(rawValue: typeName) {
                try checkBuiltin(value, builtin, at: location)
                return
            }
            switch view.type(named: typeName) {
            case .enumeration(_, let values, _)?:
                guard case .string(let s) = value else { throw typeError(location, "string") }
                guard values.contains(where: { $0.name == s }) else {
                    throw QMPError.generic("Parameter '\(location.shortText)' does not accept value '\(s)'")
                }
            case .object?:
                guard case .object(let nested) = value else { throw typeError(location, "object") }
                try checkObject(nested, typeName: typeName, at: location, allowExtra: false)
            case .alternate(_, let alternatives, _)?:
                // QEMU picks the branch by the value's QType alone, then
                // visits the value as that branch's type.
                guard let branch = alternatives.first(where: { takesQType(of: value, $0.type) }) else {
                    throw QMPError.generic("Invalid parameter type for '\(location.shortText)', expected: \(typeName)")
                }
                try checkValue(value, type: branch.type, at: location)
            case nil:
                return
            }
        }
    }

    /// Whether an alternate's branch is the one for this value's QType
    /// (QString, QNum, QBool, QNull, QDict, QList).
    private func takesQType(of value: JSONValue, _ type: TypeReference) -> Bool {
        switch (type, value) {
        case (.array, .array): return true
        case (.array, _): return false
        case (.named(let n), _):
            if let b = BuiltinType(rawValue: n) {
                switch (b, value) {
                case (.str, .string), (.bool, .bool), (.null, .null): return true
                case (.str, _), (.bool, _), (.null, _), (.any, _): return false
                case (_, .int), (_, .uint), (_, .double): return true  // every numeric type takes any QNum
                default: return false
                }
            }
            switch (view.type(named: n), value) {
            case (.enumeration?, .string), (.object?, .object): return true
            default: return false
            }
        }
    }

    private func checkBuiltin(_ value: JSONValue, _ type: BuiltinType, at location: Location) throws(QMPError) {
        switch type {
        case .any:
            return
        case .str:
            guard case .string = value else { throw typeError(location, "string") }
        case .bool:
            guard case .bool = value else { throw typeError(location, "boolean") }
        case .null:
            guard case .null = value else { throw typeError(location, "null") }
        case .number:
            switch value {
            case .int, .uint, .double: return
            default: throw typeError(location, "number")
            }
        case .int, .int64, .int8, .int16, .int32:
            // `qnum_get_try_int`: integers that fit in int64 only (1.0 is not one).
            guard let i = value.int64Value else { throw typeError(location, "integer") }
            if let (range, cType) = type.signedRange, !range.contains(i) {
                throw QMPError.generic("Parameter '\(location.shortText)' expects \(cType)")
            }
        case .uint64, .size, .uint8, .uint16, .uint32:
            // `qobject_input_type_uint64`: any integer, negative ones taken
            // modulo 2^64 "for backward compatibility"; `size` is the same visit.
            let unsigned: UInt64
            switch value {
            case .int(let i): unsigned = UInt64(bitPattern: i)
            case .uint(let u): unsigned = u
            default: throw QMPError.generic("Parameter '\(location.fullName)' expects uint64")
            }
            if let (max, cType) = type.unsignedRange, unsigned > max {
                throw QMPError.generic("Parameter '\(location.shortText)' expects \(cType)")
            }
        }
    }
}
