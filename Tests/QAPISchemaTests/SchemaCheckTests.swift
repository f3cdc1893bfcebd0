import QAPISchema
import QMPWire
import Testing

/// Argument checks with QEMU 7.2's texts (each recorded from
/// qemu-system-x86_64 7.2.22 with the same command shape).
struct SchemaCheckTests {
    static let module: SchemaModule = try! SchemaModule(name: "test", expressions: [
        ["enum": "QKeyCode", "data": ["a", "b", "ret"]],
        ["enum": "KeyValueKind", "data": ["number", "qcode"]],
        ["struct": "IntWrapper", "data": ["data": "int"]],
        ["struct": "QKeyCodeWrapper", "data": ["data": "QKeyCode"]],
        ["union": "KeyValue", "base": ["type": "KeyValueKind"], "discriminator": "type",
         "data": ["number": "IntWrapper", "qcode": "QKeyCodeWrapper"]],
        ["command": "send-key", "data": ["keys": ["KeyValue"], "*hold-time": "int"]],
        ["command": "block_resize", "data": ["*device": "str", "*node-name": "str", "size": "int"]],
        ["command": "set-params", "data": ["*level": "uint8", "*limit": "int32", "*ratio": "number", "*on": "bool", "*blob": "any"]],
        ["alternate": "StrOrInt", "data": ["s": "str", "i": "int"]],
        ["command": "alt", "data": ["v": "StrOrInt"]],
        ["command": "device_add", "data": ["driver": "str", "*id": "str"], "gen": false],
        ["command": "noargs"],
    ])
    static let view = try! SchemaView(modules: [module])

    func check(_ command: String, _ args: JSONObject?) -> String? {
        guard let (decl, _) = Self.view.command(command) else { return "no such command" }
        if case .failure(let e) = Self.view.checkArguments(of: decl, args) { return e.desc }
        return nil
    }

    @Test func missingUnexpectedAndTypes() {
        #expect(check("block_resize", ["device": "d"]) == "Parameter 'size' is missing")
        #expect(check("block_resize", ["size": "x", "device": "d"]) == "Invalid parameter type for 'size', expected: integer")
        #expect(check("block_resize", ["size": 1.0]) == "Invalid parameter type for 'size', expected: integer")
        #expect(check("block_resize", ["size": 1, "bogus": 1]) == "Parameter 'bogus' is unexpected")
        #expect(check("block_resize", ["size": 1, "device": nil]) == "Invalid parameter type for 'device', expected: string")
        #expect(check("block_resize", ["size": 1]) == nil)
        #expect(check("noargs", ["x": 1]) == "Parameter 'x' is unexpected")
        #expect(check("noargs", nil) == nil)
    }

    // QEMU 7.2: send-key with keys=[{"type":"qcode","data":"nosuchkey"}] ->
    // "Parameter 'data' does not accept value 'nosuchkey'".
    @Test func unionsEnumsAndLists() {
        #expect(check("send-key", ["keys": [["type": "qcode", "data": "nosuchkey"]]]) == "Parameter 'data' does not accept value 'nosuchkey'")
        #expect(check("send-key", ["keys": [["type": "qcodex", "data": "a"]]]) == "Parameter 'type' does not accept value 'qcodex'")
        #expect(check("send-key", ["keys": [["data": "a"]]]) == "Parameter 'keys[0].type' is missing")
        #expect(check("send-key", ["keys": "x"]) == "Invalid parameter type for 'keys', expected: array")
        #expect(check("send-key", ["keys": [1]]) == "Invalid parameter type for 'keys[0]', expected: object")
        #expect(check("send-key", ["keys": [["type": "number", "data": "x"]]]) == "Invalid parameter type for 'keys[0].data', expected: integer")
        #expect(check("send-key", ["keys": [["type": "qcode", "data": "a", "extra": 1]]]) == "Parameter 'keys[0].extra' is unexpected")
        #expect(check("send-key", ["keys": [["type": "qcode", "data": "ret"]], "hold-time": 10]) == nil)
    }

    @Test func sizedIntegersNumbersAndAny() {
        #expect(check("set-params", ["level": 300]) == "Parameter 'level' expects uint8")
        #expect(check("set-params", ["limit": 3_000_000_000]) == "Parameter 'limit' expects int32")
        #expect(check("set-params", ["ratio": 1]) == nil)
        #expect(check("set-params", ["ratio": "x"]) == "Invalid parameter type for 'ratio', expected: number")
        #expect(check("set-params", ["on": 1]) == "Invalid parameter type for 'on', expected: boolean")
        #expect(check("set-params", ["blob": ["anything": [1, nil]]]) == nil)
    }

    @Test func alternatesPickTheirBranchByJSONType() {
        #expect(check("alt", ["v": "s"]) == nil)
        #expect(check("alt", ["v": 1]) == nil)
        #expect(check("alt", ["v": true]) == "Invalid parameter type for 'v', expected: StrOrInt")
    }

    @Test func genFalseAcceptsExtraMembersButChecksDeclaredOnes() {
        #expect(check("device_add", ["driver": "e1000", "mac": "x"]) == nil)
        #expect(check("device_add", ["mac": "x"]) == "Parameter 'driver' is missing")
    }
}

struct SchemaDeclarationTests {
    @Test func declarationErrorsAreReported() {
        #expect(throws: SchemaError.self) { try SchemaModule(name: "m", expressions: [["command": "x", "data": ["a": "NoSuchType"]]]) }
        #expect(throws: SchemaError.self) { try SchemaModule(name: "m", expressions: [["command": "x"], ["command": "x"]]) }
        #expect(throws: SchemaError.self) { try SchemaModule(name: "m", expressions: [["bogus": "x"]]) }
        #expect(throws: SchemaError.self) { try SchemaModule(name: "m", expressions: .object([:])) }
    }

    @Test func viewsRefuseClashesButShareIdenticalTypes() throws {
        let a = try SchemaModule(name: "a", expressions: [["enum": "E", "data": ["x"]], ["command": "ca", "data": ["e": "E"]]])
        let b = try SchemaModule(name: "b", expressions: [["enum": "E", "data": ["x"]], ["command": "cb", "data": ["e": "E"]]])
        let c = try SchemaModule(name: "c", expressions: [["enum": "E", "data": ["y"]], ["command": "ca"]])
        #expect(try SchemaView(modules: [a, b]).commandNames == ["ca", "cb"])
        #expect(throws: SchemaError.self) { try SchemaView(modules: [a, c]) }
    }

    @Test func modulesUseTheirDependenciesTypes() throws {
        let core = try SchemaModule(name: "core", expressions: [["enum": "RunState", "data": ["running"]]])
        let plugin = try SchemaModule(name: "p", expressions: [["command": "x", "returns": "RunState"]], dependencies: [core])
        #expect(plugin.commandNames == ["x"])
        #expect(throws: SchemaError.self) { try SchemaModule(name: "p", expressions: [["command": "x", "returns": "RunState"]]) }
    }
}

/// SchemaInfo in QEMU 7.2's shape.
struct IntrospectionTests {
    @Test func shape() throws {
        let entries = try #require(SchemaCheckTests.view.introspection.arrayValue)
        let byName = Dictionary(entries.compactMap { e in e["name"]?.stringValue.map { ($0, e) } }, uniquingKeysWith: { a, _ in a })
        let sendKey = try #require(byName["send-key"])
        #expect(sendKey["meta-type"] == "command")
        #expect(byName["noargs"]?["arg-type"] == "0")
        #expect(byName["0"]?["members"] == [])
        let argType = try #require(sendKey["arg-type"]?.stringValue)
        let args = try #require(byName[argType])
        #expect(args["meta-type"] == "object")
        let members = try #require(args["members"]?.arrayValue)
        #expect(members.map { $0["name"] } == ["keys", "hold-time"])
        #expect(members[1]["default"] == .null)
        #expect(members[0]["default"] == nil)
        let keysType = try #require(members[0]["type"]?.stringValue)
        #expect(keysType.hasPrefix("["))
        #expect(byName[keysType]?["meta-type"] == "array")
        #expect(byName["int"] == ["name": "int", "meta-type": "builtin", "json-type": "int"])
        let union = try #require(byName[byName[keysType]?["element-type"]?.stringValue ?? ""])
        #expect(union["tag"] == "type")
        #expect(union["variants"]?.arrayValue?.count == 2)
        // Type names are masked; commands keep theirs.
        #expect(byName["KeyValue"] == nil)
    }
}
