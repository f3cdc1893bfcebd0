import QAPISchema
import QMPWire
import Testing

/// `query-qmp-schema` in QEMU 7.2's SchemaInfo shape.
struct IntrospectionTests {
    /// Entries of QEMU 7.2.22's `query-qmp-schema` (`-machine pc`): the
    /// commands and events below and every type they reach, as QEMU sent
    /// them (type names masked as QEMU numbers them in its full schema).
    static let qemuEntries = """
    [
    {"name": "query-status", "ret-type": "1", "meta-type": "command", "arg-type": "0"},
    {"name": "0", "members": [], "meta-type": "object"},
    {"name": "1", "members": [{"name": "running", "type": "bool"}, {"name": "singlestep", "type": "bool"}, {"name": "status", "type": "262"}], "meta-type": "object"},
    {"name": "bool", "json-type": "boolean", "meta-type": "builtin"},
    {"name": "262", "members": [{"name": "debug"}, {"name": "inmigrate"}, {"name": "internal-error"}, {"name": "io-error"}, {"name": "paused"}, {"name": "postmigrate"}, {"name": "prelaunch"}, {"name": "finish-migrate"}, {"name": "restore-vm"}, {"name": "running"}, {"name": "save-vm"}, {"name": "shutdown"}, {"name": "suspended"}, {"name": "watchdog"}, {"name": "guest-panicked"}, {"name": "colo"}], "meta-type": "enum", "values": ["debug", "inmigrate", "internal-error", "io-error", "paused", "postmigrate", "prelaunch", "finish-migrate", "restore-vm", "running", "save-vm", "shutdown", "suspended", "watchdog", "guest-panicked", "colo"]},
    {"name": "SHUTDOWN", "meta-type": "event", "arg-type": "2"},
    {"name": "2", "members": [{"name": "guest", "type": "bool"}, {"name": "reason", "type": "263"}], "meta-type": "object"},
    {"name": "263", "members": [{"name": "none"}, {"name": "host-error"}, {"name": "host-qmp-quit"}, {"name": "host-qmp-system-reset"}, {"name": "host-signal"}, {"name": "host-ui"}, {"name": "guest-shutdown"}, {"name": "guest-reset"}, {"name": "guest-panic"}, {"name": "subsystem-reset"}, {"name": "snapshot-load"}], "meta-type": "enum", "values": ["none", "host-error", "host-qmp-quit", "host-qmp-system-reset", "host-signal", "host-ui", "guest-shutdown", "guest-reset", "guest-panic", "subsystem-reset", "snapshot-load"]},
    {"name": "RESET", "meta-type": "event", "arg-type": "3"},
    {"name": "3", "members": [{"name": "guest", "type": "bool"}, {"name": "reason", "type": "263"}], "meta-type": "object"},
    {"name": "STOP", "meta-type": "event", "arg-type": "0"},
    {"name": "block_resize", "ret-type": "0", "meta-type": "command", "arg-type": "25"},
    {"name": "25", "members": [{"name": "device", "default": null, "type": "str"}, {"name": "node-name", "default": null, "type": "str"}, {"name": "size", "type": "int"}], "meta-type": "object"},
    {"name": "str", "json-type": "string", "meta-type": "builtin"},
    {"name": "int", "json-type": "int", "meta-type": "builtin"},
    {"name": "set_link", "ret-type": "0", "meta-type": "command", "arg-type": "99"},
    {"name": "99", "members": [{"name": "name", "type": "str"}, {"name": "up", "type": "bool"}], "meta-type": "object"},
    {"name": "x-blockdev-set-iothread", "ret-type": "0", "meta-type": "command", "arg-type": "64", "features": ["unstable"]},
    {"name": "64", "members": [{"name": "node-name", "type": "str"}, {"name": "iothread", "type": "334"}, {"name": "force", "default": null, "type": "bool"}], "meta-type": "object"},
    {"name": "334", "members": [{"type": "str"}, {"type": "null"}], "meta-type": "alternate"},
    {"name": "null", "json-type": "null", "meta-type": "builtin"},
    {"name": "query-cpu-model-expansion", "ret-type": "216", "meta-type": "command", "arg-type": "215"},
    {"name": "215", "members": [{"name": "type", "type": "485"}, {"name": "model", "type": "483"}], "meta-type": "object"},
    {"name": "485", "members": [{"name": "static"}, {"name": "full"}], "meta-type": "enum", "values": ["static", "full"]},
    {"name": "483", "members": [{"name": "name", "type": "str"}, {"name": "props", "default": null, "type": "any"}], "meta-type": "object"},
    {"name": "any", "json-type": "value", "meta-type": "builtin"},
    {"name": "216", "members": [{"name": "model", "type": "483"}], "meta-type": "object"},
    {"name": "query-cpus-fast", "ret-type": "[190]", "meta-type": "command", "arg-type": "0"},
    {"name": "[190]", "element-type": "190", "meta-type": "array"},
    {"name": "190", "tag": "target", "variants": [{"case": "s390x", "type": "470"}, {"case": "aarch64", "type": "0"}, {"case": "alpha", "type": "0"}, {"case": "arm", "type": "0"}, {"case": "avr", "type": "0"}, {"case": "cris", "type": "0"}, {"case": "hppa", "type": "0"}, {"case": "i386", "type": "0"}, {"case": "loongarch64", "type": "0"}, {"case": "m68k", "type": "0"}, {"case": "microblaze", "type": "0"}, {"case": "microblazeel", "type": "0"}, {"case": "mips", "type": "0"}, {"case": "mips64", "type": "0"}, {"case": "mips64el", "type": "0"}, {"case": "mipsel", "type": "0"}, {"case": "nios2", "type": "0"}, {"case": "or1k", "type": "0"}, {"case": "ppc", "type": "0"}, {"case": "ppc64", "type": "0"}, {"case": "riscv32", "type": "0"}, {"case": "riscv64", "type": "0"}, {"case": "rx", "type": "0"}, {"case": "sh4", "type": "0"}, {"case": "sh4eb", "type": "0"}, {"case": "sparc", "type": "0"}, {"case": "sparc64", "type": "0"}, {"case": "tricore", "type": "0"}, {"case": "x86_64", "type": "0"}, {"case": "xtensa", "type": "0"}, {"case": "xtensaeb", "type": "0"}], "members": [{"name": "cpu-index", "type": "int"}, {"name": "qom-path", "type": "str"}, {"name": "thread-id", "type": "int"}, {"name": "props", "default": null, "type": "468"}, {"name": "target", "type": "469"}], "meta-type": "object"},
    {"name": "468", "members": [{"name": "node-id", "default": null, "type": "int"}, {"name": "socket-id", "default": null, "type": "int"}, {"name": "die-id", "default": null, "type": "int"}, {"name": "cluster-id", "default": null, "type": "int"}, {"name": "core-id", "default": null, "type": "int"}, {"name": "thread-id", "default": null, "type": "int"}], "meta-type": "object"},
    {"name": "469", "members": [{"name": "aarch64"}, {"name": "alpha"}, {"name": "arm"}, {"name": "avr"}, {"name": "cris"}, {"name": "hppa"}, {"name": "i386"}, {"name": "loongarch64"}, {"name": "m68k"}, {"name": "microblaze"}, {"name": "microblazeel"}, {"name": "mips"}, {"name": "mips64"}, {"name": "mips64el"}, {"name": "mipsel"}, {"name": "nios2"}, {"name": "or1k"}, {"name": "ppc"}, {"name": "ppc64"}, {"name": "riscv32"}, {"name": "riscv64"}, {"name": "rx"}, {"name": "s390x"}, {"name": "sh4"}, {"name": "sh4eb"}, {"name": "sparc"}, {"name": "sparc64"}, {"name": "tricore"}, {"name": "x86_64"}, {"name": "xtensa"}, {"name": "xtensaeb"}], "meta-type": "enum", "values": ["aarch64", "alpha", "arm", "avr", "cris", "hppa", "i386", "loongarch64", "m68k", "microblaze", "microblazeel", "mips", "mips64", "mips64el", "mipsel", "nios2", "or1k", "ppc", "ppc64", "riscv32", "riscv64", "rx", "s390x", "sh4", "sh4eb", "sparc", "sparc64", "tricore", "x86_64", "xtensa", "xtensaeb"]},
    {"name": "470", "members": [{"name": "cpu-state", "type": "612"}], "meta-type": "object"},
    {"name": "612", "members": [{"name": "uninitialized"}, {"name": "stopped"}, {"name": "check-stop"}, {"name": "operating"}, {"name": "load"}], "meta-type": "enum", "values": ["uninitialized", "stopped", "check-stop", "operating", "load"]}
    ]
    """

    /// The same commands and events declared in QAPI's syntax, in QEMU's
    /// order: query-status, SHUTDOWN, RESET, STOP are QEMU's first entities.
    static let schema = """
    [
      {"enum": "RunState", "data": ["debug", "inmigrate", "internal-error", "io-error", "paused", "postmigrate",
        "prelaunch", "finish-migrate", "restore-vm", "running", "save-vm", "shutdown", "suspended", "watchdog",
        "guest-panicked", "colo"]},
      {"enum": "ShutdownCause", "data": ["none", "host-error", "host-qmp-quit", "host-qmp-system-reset", "host-signal",
        "host-ui", "guest-shutdown", "guest-reset", "guest-panic", "subsystem-reset", "snapshot-load"]},
      {"struct": "StatusInfo", "data": {"running": "bool", "singlestep": "bool", "status": "RunState"}},
      {"command": "query-status", "returns": "StatusInfo", "allow-preconfig": true},
      {"event": "SHUTDOWN", "data": {"guest": "bool", "reason": "ShutdownCause"}},
      {"event": "RESET", "data": {"guest": "bool", "reason": "ShutdownCause"}},
      {"event": "STOP"},
      {"command": "block_resize", "data": {"*device": "str", "*node-name": "str", "size": "int"}},
      {"command": "set_link", "data": {"name": "str", "up": "bool"}},
      {"alternate": "StrOrNull", "data": {"s": "str", "n": "null"}},
      {"command": "x-blockdev-set-iothread", "data": {"node-name": "str", "iothread": "StrOrNull", "*force": "bool"},
       "features": ["unstable"]},
      {"enum": "CpuModelExpansionType", "data": ["static", "full"]},
      {"struct": "CpuModelInfo", "data": {"name": "str", "*props": "any"}},
      {"struct": "CpuModelExpansionInfo", "data": {"model": "CpuModelInfo"}},
      {"command": "query-cpu-model-expansion", "data": {"type": "CpuModelExpansionType", "model": "CpuModelInfo"},
       "returns": "CpuModelExpansionInfo"},
      {"enum": "SysEmuTarget", "data": ["aarch64", "alpha", "arm", "avr", "cris", "hppa", "i386", "loongarch64", "m68k",
        "microblaze", "microblazeel", "mips", "mips64", "mips64el", "mipsel", "nios2", "or1k", "ppc", "ppc64",
        "riscv32", "riscv64", "rx", "s390x", "sh4", "sh4eb", "sparc", "sparc64", "tricore", "x86_64", "xtensa", "xtensaeb"]},
      {"struct": "CpuInstanceProperties", "data": {"*node-id": "int", "*socket-id": "int", "*die-id": "int",
        "*cluster-id": "int", "*core-id": "int", "*thread-id": "int"}},
      {"enum": "CpuS390State", "data": ["uninitialized", "stopped", "check-stop", "operating", "load"]},
      {"struct": "CpuInfoS390", "data": {"cpu-state": "CpuS390State"}},
      {"union": "CpuInfoFast", "base": {"cpu-index": "int", "qom-path": "str", "thread-id": "int",
        "*props": "CpuInstanceProperties", "target": "SysEmuTarget"},
       "discriminator": "target", "data": {"s390x": "CpuInfoS390"}},
      {"command": "query-cpus-fast", "returns": ["CpuInfoFast"], "allow-preconfig": true}
    ]
    """

    static func ours() throws -> [JSONValue] {
        let module = try SchemaModule(name: "core", expressions: try JSONValue(parsing: schema))
        return try #require(try SchemaView(modules: [module]).introspection.arrayValue)
    }

    /// An entity with every masked type name replaced by what it names, so
    /// that two schemas numbered differently compare by meaning.
    static func unmasked(_ name: String, in entries: [String: JSONValue], depth: Int = 0) -> JSONValue {
        guard depth < 8, let entry = entries[name] else { return .string(name) }
        if entry["meta-type"] == "builtin" { return .string(name) }
        func resolve(_ value: JSONValue, key: String) -> JSONValue {
            switch value {
            case .string(let s) where ["type", "arg-type", "ret-type", "element-type"].contains(key):
                return unmasked(s, in: entries, depth: depth + 1)
            case .array(let items):
                return .array(items.map { resolve($0, key: key) })
            case .object(let o):
                return .object(JSONObject(o.members.map { (key: $0.key, value: resolve($0.value, key: $0.key)) }))
            default:
                return value
            }
        }
        var object = entry.objectValue ?? JSONObject()
        if entry["meta-type"] != "command", entry["meta-type"] != "event" { _ = object.removeValue(forKey: "name") }
        return resolve(.object(object), key: "")
    }

    static func byName(_ entries: [JSONValue]) -> [String: JSONValue] {
        var map: [String: JSONValue] = [:]
        for e in entries { if let n = e["name"]?.stringValue { map[n] = e } }
        return map
    }

    @Test func everyEntityMatchesQEMUs() throws {
        let qemu = Self.byName(try #require(try JSONValue(parsing: Self.qemuEntries).arrayValue))
        let ours = Self.byName(try Self.ours())
        for name in ["query-status", "SHUTDOWN", "RESET", "STOP", "block_resize", "set_link", "x-blockdev-set-iothread",
                     "query-cpu-model-expansion", "query-cpus-fast"] {
            #expect(Self.unmasked(name, in: ours) == Self.unmasked(name, in: qemu), "\(name)")
        }
    }

    /// QEMU's first entities are ours too, so even the masked numbers agree:
    /// numbers go to types in order of first use, and "0" is the empty object.
    @Test func namesAreMaskedInOrderOfFirstUse() throws {
        let qemu = try #require(try JSONValue(parsing: Self.qemuEntries).arrayValue)
        let ours = try Self.ours()
        let qemuByName = Self.byName(qemu)
        let oursByName = Self.byName(ours)
        for name in ["query-status", "SHUTDOWN", "RESET", "STOP", "0"] {
            #expect(oursByName[name] == qemuByName[name], "\(name)")
        }
        // Types "1" to "3" are the same ones; their members name types that
        // QEMU numbers later, after its other commands.
        for name in ["1", "2", "3"] {
            #expect(oursByName[name]?["members"]?.arrayValue?.map { $0["name"] } == qemuByName[name]?["members"]?.arrayValue?.map { $0["name"] })
        }
        #expect(oursByName["StatusInfo"] == nil && oursByName["RunState"] == nil)
    }

    /// Commands and events first in declaration order, then types in the
    /// order they were first used, each once (an array before its element).
    @Test func entitiesComeInIntrospectPyOrder() throws {
        let ours = try Self.ours()
        let names = ours.compactMap { $0["name"]?.stringValue }
        #expect(Array(names.prefix(9)) == ["query-status", "SHUTDOWN", "RESET", "STOP", "block_resize", "set_link",
                                           "x-blockdev-set-iothread", "query-cpu-model-expansion", "query-cpus-fast"])
        #expect(Array(names.dropFirst(9).prefix(4)) == ["0", "1", "2", "3"])
        #expect(Set(names).count == names.count)
        let array = try #require(names.firstIndex(where: { $0.hasPrefix("[") }))
        let element = try #require(names.firstIndex(of: String(names[array].dropFirst().dropLast())))
        #expect(array < element)
        let builtins = ours.filter { $0["meta-type"] == "builtin" }.compactMap { $0["name"]?.stringValue }
        #expect(Set(builtins) == ["bool", "str", "int", "null", "any"])
    }

    /// Integer widths and `size` all show as `int`; QType is an ordinary enum.
    @Test func integersCollapseToInt() throws {
        let module = try SchemaModule(name: "m", expressions: [
            ["command": "x", "data": ["a": "uint8", "b": "size", "c": ["int32"], "d": "QType"], "returns": ["uint64"]],
        ])
        let entries = Self.byName(try #require(try SchemaView(modules: [module]).introspection.arrayValue))
        #expect(entries["x"]?["ret-type"] == "[int]")
        let args = try #require(entries[entries["x"]?["arg-type"]?.stringValue ?? ""])
        #expect(args["members"]?.arrayValue?.map { $0["type"] } == ["int", "int", "[int]", "1"])
        #expect(entries["1"]?["meta-type"] == "enum")
        #expect(entries["1"]?["values"]?.arrayValue?.count == 7)
        #expect(entries["uint8"] == nil && entries["size"] == nil)
        #expect(entries["int"] == ["name": "int", "meta-type": "builtin", "json-type": "int"])
    }

    /// Features of types, members, enum values, commands and events appear where QEMU puts them.
    @Test func featuresAndOOB() throws {
        let module = try SchemaModule(name: "m", expressions: try JSONValue(parsing: """
        [ {"enum": "Cap", "data": ["xbzrle", {"name": "x-colo", "features": ["unstable"]}], "features": ["f-enum"]},
          {"struct": "Opts", "data": {"*device": {"type": "str", "features": ["deprecated"]}, "cap": "Cap"},
           "features": ["dynamic-auto-read-only"]},
          {"command": "yank", "data": "Opts", "allow-oob": true, "features": ["f-cmd"]},
          {"event": "EV", "features": ["f-ev"]} ]
        """))
        let entries = Self.byName(try #require(try SchemaView(modules: [module]).introspection.arrayValue))
        let yank = try #require(entries["yank"])
        #expect(yank == ["name": "yank", "meta-type": "command", "arg-type": "0", "ret-type": "1", "allow-oob": true, "features": ["f-cmd"]])
        #expect(entries["EV"] == ["name": "EV", "meta-type": "event", "arg-type": "1", "features": ["f-ev"]])
        #expect(entries["0"] == ["name": "0", "meta-type": "object", "features": ["dynamic-auto-read-only"], "members": [
            ["name": "device", "type": "str", "default": nil, "features": ["deprecated"]],
            ["name": "cap", "type": "2"],
        ]])
        #expect(entries["2"] == ["name": "2", "meta-type": "enum", "features": ["f-enum"],
                                 "members": [["name": "xbzrle"], ["name": "x-colo", "features": ["unstable"]]],
                                 "values": ["xbzrle", "x-colo"]])
    }

    /// Computed once per view: the same value on every call.
    @Test func cachedPerView() throws {
        let module = try SchemaModule(name: "m", expressions: [["command": "x"]])
        let view = try SchemaView(modules: [module])
        #expect(view.introspection == view.introspection)
        #expect(view.introspection.arrayValue?.count == 2)
    }
}
