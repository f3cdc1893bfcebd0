import QMPWire

/// QEMU's QObject input visitor (qapi/qobject-input-visitor.c) reduced to
/// what it checks: members present, types, enum values and integer ranges,
/// unions by discriminator, alternates by JSON type, no unexpected members.
/// The first problem wins, found in the order QEMU visits: declared members
/// in declaration order, then unexpected members in QDict order.
struct ArgumentChecker {
    let view: SchemaView

    private func name(_ path: String, _ member: String) -> String {
        path.isEmpty ? member : "\(path).\(member)"
    }

    mutating func checkObject(_ object: JSONObject, typeName: String, path: String, allowExtra: Bool) throws(QMPError) {
        guard case .object(_, let members, let discriminator, let variants)? = view.type(named: typeName) else {
            return
        }
        var all = members
        if let discriminator, let tag = object[discriminator]?.stringValue {
            // The base (with the discriminator) is visited first, so a bad
            // tag is reported before the variant's members.
            try checkMembers(object, members: members, path: path, allowExtra: true)
            if let variant = variants.first(where: { $0.value == tag }),
               case .object(_, let variantMembers, _, _)? = view.type(named: variant.type) {
                all += variantMembers
            }
        }
        try checkMembers(object, members: all, path: path, allowExtra: allowExtra)
    }

    mutating func checkMembers(_ object: JSONObject, members: [SchemaMember], path: String, allowExtra: Bool) throws(QMPError) {
        for member in members {
            let full = name(path, member.name)
            guard let value = object[member.name] else {
                if member.isOptional { continue }
                throw QMPError.generic("Parameter '\(full)' is missing")
            }
            try checkValue(value, type: member.type, fullName: full, shortName: member.name)
        }
        if !allowExtra {
            let known = Set(members.map(\.name))
            for index in QDictOrder.writeOrder(of: object) where !known.contains(object.members[index].key) {
                throw QMPError.generic("Parameter '\(name(path, object.members[index].key))' is unexpected")
            }
        }
    }

    private func typeError(_ fullName: String, _ expected: String) -> QMPError {
        .generic("Invalid parameter type for '\(fullName)', expected: \(expected)")
    }

    mutating func checkValue(_ value: JSONValue, type: TypeReference, fullName: String, shortName: String) throws(QMPError) {
        switch type {
        case .array(let element):
            guard case .array(let items) = value else { throw typeError(fullName, "array") }
            for (i, item) in items.enumerated() {
                // QEMU's visitor names list elements NULL, printed as 'null'
                // in the texts that use the short name.
                try checkValue(item, type: element, fullName: "\(fullName)[\(i)]", shortName: "null")
            }
        case .named(let typeName):
            if let builtin = BuiltinType(rawValue: typeName) {
                try checkBuiltin(value, builtin, fullName: fullName, shortName: shortName)
                return
            }
            switch view.type(named: typeName) {
            case .enumeration(_, let values)?:
                guard case .string(let s) = value else { throw typeError(fullName, "string") }
                guard values.contains(s) else {
                    throw QMPError.generic("Parameter '\(shortName)' does not accept value '\(s)'")
                }
            case .object?:
                guard case .object(let nested) = value else { throw typeError(fullName, "object") }
                try checkObject(nested, typeName: typeName, path: fullName, allowExtra: false)
            case .alternate(_, let alternatives)?:
                for alternative in alternatives where accepts(alternative.type, value) {
                    try checkValue(value, type: alternative.type, fullName: fullName, shortName: shortName)
                    return
                }
                throw typeError(fullName, typeName)
            case nil:
                return
            }
        }
    }

    /// Whether an alternate's branch takes this JSON type (QEMU picks the
    /// branch by the value's QType).
    private func accepts(_ type: TypeReference, _ value: JSONValue) -> Bool {
        switch (type, value) {
        case (.array, .array): return true
        case (.array, _): return false
        case (.named(let n), _):
            if let b = BuiltinType(rawValue: n) {
                switch (b, value) {
                case (.str, .string), (.bool, .bool), (.null, .null), (.any, _): return true
                case (.number, .int), (.number, .uint), (.number, .double): return true
                case (.int, .int), (.int8, .int), (.int16, .int), (.int32, .int), (.int64, .int): return true
                case (.uint8, .int), (.uint16, .int), (.uint32, .int), (.uint64, .int), (.size, .int): return true
                case (.uint64, .uint), (.size, .uint): return true
                default: return false
                }
            }
            switch (view.type(named: n), value) {
            case (.enumeration?, .string), (.object?, .object): return true
            default: return false
            }
        }
    }

    private func checkBuiltin(_ value: JSONValue, _ type: BuiltinType, fullName: String, shortName: String) throws(QMPError) {
        switch type {
        case .any:
            return
        case .str, .qtype:
            guard case .string = value else { throw typeError(fullName, "string") }
        case .bool:
            guard case .bool = value else { throw typeError(fullName, "boolean") }
        case .null:
            guard case .null = value else { throw typeError(fullName, "null") }
        case .number:
            switch value {
            case .int, .uint, .double: return
            default: throw typeError(fullName, "number")
            }
        case .int, .int64:
            guard case .int = value else { throw typeError(fullName, "integer") }
        case .int8, .int16, .int32:
            guard case .int(let i) = value else { throw typeError(fullName, "integer") }
            guard type.signedRange!.contains(i) else {
                throw QMPError.generic("Parameter '\(shortName)' expects \(type.rawValue)")
            }
        case .uint64, .size:
            switch value {
            case .int, .uint: return
            default: throw QMPError.generic("Parameter '\(fullName)' expects \(type == .size ? "size" : "uint64")")
            }
        case .uint8, .uint16, .uint32:
            let unsigned: UInt64
            switch value {
            case .int(let i): unsigned = UInt64(bitPattern: i)
            case .uint(let u): unsigned = u
            default: throw QMPError.generic("Parameter '\(fullName)' expects uint64")
            }
            guard unsigned <= type.unsignedMax! else {
                throw QMPError.generic("Parameter '\(shortName)' expects \(type.rawValue)")
            }
        }
    }
}
