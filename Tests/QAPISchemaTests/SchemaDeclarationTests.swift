import QAPISchema
import QMPWire
import Testing

/// Reading QAPI declarations (JSON form) into modules, and combining modules into views.
struct SchemaDeclarationTests {
    func module(_ name: String, _ text: String, dependencies: [SchemaModule] = []) throws -> SchemaModule {
        try SchemaModule(name: name, expressions: try JSONValue(parsing: text), dependencies: dependencies)
    }

    func schemaError(_ text: String, dependencies: [SchemaModule] = []) -> String? {
        do {
            _ = try module("m", text, dependencies: dependencies)
            return nil
        } catch let error as SchemaError {
            return error.message
        } catch {
            return "not a SchemaError: \(error)"
        }
    }

    @Test func commandsAndEventsInDeclarationOrder() throws {
        let m = try module("core", """
        [ {"include": "common.json"}, {"pragma": {"doc-required": true}},
          {"command": "query-status", "returns": "StatusInfo", "allow-preconfig": true},
          {"event": "STOP"},
          {"enum": "RunState", "data": ["running", {"name": "x-colo", "features": ["unstable"]}]},
          {"struct": "StatusInfo", "data": {"running": "bool", "status": "RunState"}},
          {"event": "RESET", "data": {"guest": "bool", "reason": "str"}, "if": "CONFIG_X"},
          {"command": "device_add", "data": {"driver": "str"}, "gen": false, "features": ["json-cli"]},
          {"command": "migrate-pause", "allow-oob": true, "data": {}}
        ]
        """)
        #expect(m.name == "core")
        #expect(m.commandNames == ["query-status", "device_add", "migrate-pause"])
        #expect(m.eventNames == ["STOP", "RESET"])
        let status = try #require(m.command("query-status"))
        #expect(status.allowPreconfig && !status.allowsAnyArguments && !status.allowOOB)
        let deviceAdd = try #require(m.command("device_add"))
        #expect(deviceAdd.allowsAnyArguments && !deviceAdd.allowPreconfig)
        #expect(deviceAdd.features == ["json-cli"])
        #expect(m.command("migrate-pause")?.allowOOB == true)
        #expect(m.event("RESET")?.name == "RESET")
        #expect(m.command("nope") == nil && m.event("nope") == nil)
    }

    @Test func malformedDeclarationsAreRefused() {
        #expect(schemaError(#"{"command": "x"}"#) != nil)  // not an array
        #expect(schemaError(#"[1]"#) != nil)
        #expect(schemaError(#"[{"bogus": "x"}]"#)?.contains("unknown expression") == true)
        #expect(schemaError(#"[{"command": "x"}, {"command": "x"}]"#)?.contains("declared twice") == true)
        #expect(schemaError(#"[{"event": "E"}, {"event": "E"}]"#)?.contains("declared twice") == true)
        #expect(schemaError(#"[{"enum": "E", "data": ["a"]}, {"struct": "E", "data": {}}]"#)?.contains("declared twice") == true)
        #expect(schemaError(#"[{"struct": "int", "data": {}}]"#) != nil)
        #expect(schemaError(#"[{"command": "x", "data": {"a": "NoSuchType"}}]"#)?.contains("unknown type 'NoSuchType'") == true)
        #expect(schemaError(#"[{"command": "x", "returns": ["NoSuchType"]}]"#)?.contains("NoSuchType") == true)
        #expect(schemaError(#"[{"command": "x", "data": {"a": ["str", "int"]}}]"#) != nil)
        #expect(schemaError(#"[{"command": "x", "data": {"a": 5}}]"#) != nil)
        #expect(schemaError(#"[{"enum": "E", "data": ["a", "a"]}]"#) != nil)
        #expect(schemaError(#"[{"struct": "S", "base": "Missing", "data": {}}]"#)?.contains("Missing") == true)
        #expect(schemaError(#"[{"enum": "K", "data": ["a"]}, {"union": "U", "base": {"k": "K"}, "discriminator": "type", "data": {}}]"#) != nil)
        #expect(schemaError(#"[{"enum": "K", "data": ["a"]}, {"struct": "A", "data": {}}, {"union": "U", "base": {"k": "K"}, "discriminator": "k", "data": {"b": "A"}}]"#)?.contains("'b'") == true)
        #expect(schemaError(#"[{"struct": "S", "data": {}}, {"command": "x", "data": "str", "boxed": true}]"#) != nil)
    }

    @Test func basesAreFlattenedWhateverTheirOrder() throws {
        let m = try module("m", """
        [ {"command": "x", "data": "Child", "boxed": true},
          {"struct": "Child", "base": "Parent", "data": {"c": "int"}},
          {"struct": "Parent", "base": "Grandparent", "data": {"p": "str"}},
          {"struct": "Grandparent", "data": {"g": "bool"}} ]
        """)
        let view = try SchemaView(modules: [m])
        let (x, owner) = try #require(view.command("x"))
        #expect(owner === m)
        #expect(view.checkArguments(of: x, ["c": 1, "p": "s"]) == .failure(.generic("Parameter 'g' is missing")))
        #expect(view.checkArguments(of: x, ["g": true, "p": "s", "c": 1]) == .success(["g": true, "p": "s", "c": 1]))
    }

    @Test func modulesUseTheirDependenciesTypes() throws {
        let core = try module("core", #"[{"enum": "RunState", "data": ["running"]}]"#)
        let plugin = try module("p", #"[{"command": "x", "data": {"*s": "RunState"}, "returns": ["RunState"]}]"#, dependencies: [core])
        #expect(plugin.commandNames == ["x"])
        #expect(schemaError(#"[{"command": "x", "returns": "RunState"}]"#) != nil)
        let view = try SchemaView(modules: [core, plugin])
        let (x, owner) = try #require(view.command("x"))
        #expect(owner.name == "p")
        #expect(view.checkArguments(of: x, ["s": "stopped"]) == .failure(.generic("Parameter 's' does not accept value 'stopped'")))
    }

    @Test func viewsRefuseDuplicatesNamingBothModules() throws {
        let a = try module("a", #"[{"enum": "E", "data": ["x"]}, {"command": "ca", "data": {"e": "E"}}, {"event": "EV"}]"#)
        let b = try module("b", #"[{"enum": "E", "data": ["x"]}, {"command": "cb", "data": {"e": "E"}}]"#)
        let sameCommand = try module("c", #"[{"command": "ca"}]"#)
        let sameEvent = try module("d", #"[{"event": "EV"}]"#)
        let otherE = try module("e", #"[{"enum": "E", "data": ["y"]}]"#)
        // Identical shared types (as SocketAddress in two plugins) are fine.
        let view = try SchemaView(modules: [a, b])
        #expect(view.commandNames == ["ca", "cb"])
        #expect(view.eventNames == ["EV"])
        for (other, clash) in [(sameCommand, "command 'ca'"), (sameEvent, "event 'EV'"), (otherE, "type 'E'")] {
            do {
                _ = try SchemaView(modules: [a, other])
                Issue.record("\(clash) accepted twice")
            } catch {
                #expect(error.message.contains(clash))
                #expect(error.message.contains("'a'") && error.message.contains("'\(other.name)'"))
            }
        }
    }

    /// A plugin may take over a core command (the first module's) by
    /// declaring it exactly the same way; nothing else may be declared twice.
    @Test func aPluginTakesOverACoreCommandDeclaredTheSameWay() throws {
        let core = try module("core", #"[{"struct": "Info", "data": {"n": "int"}}, {"command": "query-x", "returns": ["Info"]}, {"command": "other"}]"#)
        let plugin = try module("p", #"[{"command": "query-x", "returns": ["Info"]}]"#, dependencies: [core])
        let view = try SchemaView(modules: [core, plugin])
        #expect(try #require(view.command("query-x")).1.name == "p")
        #expect(view.commandNames == ["query-x", "other"])
        let differently = try module("q", #"[{"command": "query-x", "returns": "Info"}]"#, dependencies: [core])
        let second = try module("r", #"[{"command": "query-x", "returns": ["Info"]}]"#, dependencies: [core])
        for modules in [[core, differently], [core, plugin, second]] {
            #expect(throws: SchemaError.self) { try SchemaView(modules: modules) }
        }
    }
}
