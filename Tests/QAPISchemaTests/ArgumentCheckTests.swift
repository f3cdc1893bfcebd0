import QAPISchema
import QMPWire
import Testing

/// Argument checks against QEMU 7.2's texts. Every expected text was
/// recorded from qemu-system-x86_64 7.2.22 (`-machine pc -S`) sending the
/// same arguments to the real command of the same shape, named in each test.
struct ArgumentCheckTests {
    /// The real commands' shapes, declared in QAPI's syntax.
    static let schema = """
    [
      {"enum": "QKeyCode", "data": ["a", "b", "ret"]},
      {"enum": "KeyValueKind", "data": ["number", "qcode"]},
      {"struct": "IntWrapper", "data": {"data": "int"}},
      {"struct": "QKeyCodeWrapper", "data": {"data": "QKeyCode"}},
      {"union": "KeyValue", "base": {"type": "KeyValueKind"}, "discriminator": "type",
       "data": {"number": "IntWrapper", "qcode": "QKeyCodeWrapper"}},
      {"command": "send-key", "data": {"keys": ["KeyValue"], "*hold-time": "int"}},
      {"command": "block_resize", "data": {"*device": "str", "*node-name": "str", "size": "int"}},
      {"command": "set_link", "data": {"name": "str", "up": "bool"}},
      {"command": "query-status", "returns": "StatusInfo", "allow-preconfig": true},
      {"enum": "RunState", "data": ["prelaunch", "running"]},
      {"struct": "StatusInfo", "data": {"running": "bool", "singlestep": "bool", "status": "RunState"}},
      {"alternate": "StrOrNull", "data": {"s": "str", "n": "null"}},
      {"struct": "BitmapMigrationBitmapAlias", "data": {"name": "str", "alias": "str"}},
      {"struct": "BitmapMigrationNodeAlias", "data": {"node-name": "str", "alias": "str", "bitmaps": ["BitmapMigrationBitmapAlias"]}},
      {"command": "migrate-set-parameters", "data": {
        "*compress-level": "uint8", "*x-checkpoint-delay": "uint32", "*max-bandwidth": "size",
        "*downtime-limit": "uint64", "*tls-creds": "StrOrNull", "*block-bitmap-mapping": ["BitmapMigrationNodeAlias"]}},
      {"enum": "NetClientDriver", "data": ["none", "hubport"]},
      {"struct": "NetdevHubPortOptions", "data": {"hubid": "int32", "*netdev": "str"}},
      {"union": "Netdev", "base": {"id": "str", "type": "NetClientDriver"}, "discriminator": "type",
       "data": {"hubport": "NetdevHubPortOptions"}},
      {"command": "netdev_add", "data": "Netdev", "boxed": true},
      {"enum": "CpuModelExpansionType", "data": ["static", "full"]},
      {"struct": "CpuModelInfo", "data": {"name": "str", "*props": "any"}},
      {"command": "query-cpu-model-expansion", "data": {"type": "CpuModelExpansionType", "model": "CpuModelInfo"}},
      {"struct": "BlockDirtyBitmap", "data": {"node": "str", "name": "str"}},
      {"alternate": "BlockDirtyBitmapOrStr", "data": {"local": "str", "external": "BlockDirtyBitmap"}},
      {"command": "block-dirty-bitmap-merge", "data": {"node": "str", "target": "str", "bitmaps": ["BlockDirtyBitmapOrStr"]}},
      {"command": "device_add", "data": {"driver": "str", "*bus": "str", "*id": "str"}, "gen": false},
      {"alternate": "IntOrBool", "data": {"i": "int", "b": "bool"}},
      {"command": "x-numbers", "data": {"*n": "number", "*i8": "int8", "*u16": "uint16", "*alt": "IntOrBool", "*q": "QType"}}
    ]
    """
    static let view: SchemaView = {
        do {
            let module = try SchemaModule(name: "test", expressions: try JSONValue(parsing: schema))
            return try SchemaView(modules: [module])
        } catch {
            preconditionFailure("test schema: \(error)")
        }
    }()

    /// The error text for `arguments` given as JSON text (so numbers are
    /// exactly what the wire parser makes of them), nil when they pass.
    func check(_ command: String, _ arguments: String?) throws -> String? {
        let (declaration, _) = try #require(Self.view.command(command))
        let object = try arguments.map { text throws -> JSONObject in try #require(try JSONValue(parsing: text).objectValue) }
        switch Self.view.checkArguments(of: declaration, object) {
        case .success: return nil
        case .failure(let error):
            #expect(error.errorClass == .genericError)
            return error.desc
        }
    }

    // block_resize, QEMU 7.2:
    //   {"device":"d"}                 -> Parameter 'size' is missing
    //   {"size":"x","device":"d"}      -> Invalid parameter type for 'size', expected: integer
    //   {"size":1.0} / true / {} / [] / null / 18446744073709551615 / 1e30 -> the same, for 'size'
    //   {"size":1,"device":null}       -> Invalid parameter type for 'device', expected: string
    //   {"size":1,"bogus":1}           -> Parameter 'bogus' is unexpected
    //   no "arguments" at all          -> Parameter 'size' is missing
    @Test func missingMembersAndTypes() throws {
        #expect(try check("block_resize", #"{"device": "d"}"#) == "Parameter 'size' is missing")
        #expect(try check("block_resize", nil) == "Parameter 'size' is missing")
        #expect(try check("block_resize", "{}") == "Parameter 'size' is missing")
        for bad in [#""x""#, "1.0", "true", "{}", "[]", "null", "18446744073709551615", "1e30"] {
            #expect(try check("block_resize", #"{"size": \#(bad)}"#) == "Invalid parameter type for 'size', expected: integer")
        }
        for bad in ["null", "1", "true", "{}", "[]", "1.5"] {
            #expect(try check("block_resize", #"{"size": 1, "device": \#(bad)}"#) == "Invalid parameter type for 'device', expected: string")
        }
        #expect(try check("block_resize", #"{"size": 1, "bogus": 1}"#) == "Parameter 'bogus' is unexpected")
        #expect(try check("block_resize", #"{"size": -1, "device": "d"}"#) == nil)
    }

    // set_link {"name":"x","up":1} and {"up":"true"} -> Invalid parameter type for 'up', expected: boolean;
    // {"up":true} and {} -> Parameter 'name' is missing (declaration order decides).
    @Test func booleansAndDeclarationOrder() throws {
        #expect(try check("set_link", #"{"name": "x", "up": 1}"#) == "Invalid parameter type for 'up', expected: boolean")
        #expect(try check("set_link", #"{"name": "x", "up": "true"}"#) == "Invalid parameter type for 'up', expected: boolean")
        #expect(try check("set_link", #"{"up": true}"#) == "Parameter 'name' is missing")
        #expect(try check("set_link", "{}") == "Parameter 'name' is missing")
        #expect(try check("set_link", #"{"name": "x", "up": false}"#) == nil)
    }

    // query-status {"x":1} -> Parameter 'x' is unexpected; {} -> returns. ("arguments": null or []
    // is refused before any command runs: "QMP input member 'arguments' must be an object".)
    @Test func commandsWithoutArguments() throws {
        #expect(try check("query-status", #"{"x": 1}"#) == "Parameter 'x' is unexpected")
        #expect(try check("query-status", "{}") == nil)
        #expect(try check("query-status", nil) == nil)
    }

    // send-key, QEMU 7.2:
    //   keys [{"type":"qcode","data":"nosuchkey"}] -> Parameter 'data' does not accept value 'nosuchkey'
    //   [{"type":"qcodex","data":"a"}]             -> Parameter 'type' does not accept value 'qcodex'
    //   [{"data":"a"}]                             -> Parameter 'keys[0].type' is missing
    //   [{"type":"qcode"}]                         -> Parameter 'keys[0].data' is missing
    //   "x" / null / {}                            -> Invalid parameter type for 'keys', expected: array
    //   [1] / [[1]] / [null]                       -> Invalid parameter type for 'keys[0]', expected: object
    //   [{"type":1,"data":"a"}]                    -> Invalid parameter type for 'keys[0].type', expected: string
    //   [{"type":"qcode","data":1}]                -> Invalid parameter type for 'keys[0].data', expected: string
    //   [{"type":"number","data":"x"}]             -> Invalid parameter type for 'keys[0].data', expected: integer
    //   [{"type":"qcode","data":"a","extra":1}]    -> Parameter 'keys[0].extra' is unexpected
    //   [ok, {"type":"number","data":"zz"}]        -> Invalid parameter type for 'keys[1].data', expected: integer
    //   ok keys, "hold-time":"x"                   -> Invalid parameter type for 'hold-time', expected: integer
    @Test func unionsEnumsAndLists() throws {
        let cases: [(String, String)] = [
            (#"[{"type": "qcode", "data": "nosuchkey"}]"#, "Parameter 'data' does not accept value 'nosuchkey'"),
            (#"[{"type": "qcodex", "data": "a"}]"#, "Parameter 'type' does not accept value 'qcodex'"),
            (#"[{"data": "a"}]"#, "Parameter 'keys[0].type' is missing"),
            (#"[{"type": "qcode"}]"#, "Parameter 'keys[0].data' is missing"),
            (#""x""#, "Invalid parameter type for 'keys', expected: array"),
            ("null", "Invalid parameter type for 'keys', expected: array"),
            ("{}", "Invalid parameter type for 'keys', expected: array"),
            ("[1]", "Invalid parameter type for 'keys[0]', expected: object"),
            ("[[1]]", "Invalid parameter type for 'keys[0]', expected: object"),
            ("[null]", "Invalid parameter type for 'keys[0]', expected: object"),
            (#"[{"type": 1, "data": "a"}]"#, "Invalid parameter type for 'keys[0].type', expected: string"),
            (#"[{"type": "qcode", "data": 1}]"#, "Invalid parameter type for 'keys[0].data', expected: string"),
            (#"[{"type": "number", "data": "x"}]"#, "Invalid parameter type for 'keys[0].data', expected: integer"),
            (#"[{"type": "qcode", "data": "a", "extra": 1}]"#, "Parameter 'keys[0].extra' is unexpected"),
            (#"[{"type": "qcode", "data": "a"}, {"type": "number", "data": "zz"}]"#, "Invalid parameter type for 'keys[1].data', expected: integer"),
        ]
        for (keys, text) in cases {
            #expect(try check("send-key", #"{"keys": \#(keys)}"#) == text, "keys \(keys)")
        }
        #expect(try check("send-key", #"{"keys": [{"type": "qcode", "data": "a"}], "hold-time": "x"}"#)
                == "Invalid parameter type for 'hold-time', expected: integer")
        #expect(try check("send-key", #"{"keys": [{"type": "qcode", "data": "ret"}, {"type": "number", "data": 28}], "hold-time": 10}"#) == nil)
    }

    // netdev_add (boxed Netdev union, hubport's hubid is int32), QEMU 7.2:
    //   hubid 3000000000 / -3000000000 -> Parameter 'hubid' expects int32_t
    //   hubid "x"                      -> Invalid parameter type for 'hubid', expected: integer
    //   type "nosuch"                  -> Parameter 'type' does not accept value 'nosuch'
    //   no type                        -> Parameter 'type' is missing
    //   type "none" + "extra"          -> Parameter 'extra' is unexpected (a tag without a branch)
    //   hubport without hubid          -> Parameter 'hubid' is missing; without id -> Parameter 'id' is missing
    @Test func boxedUnionsAndSignedRanges() throws {
        #expect(try check("netdev_add", #"{"type": "hubport", "id": "h", "hubid": 3000000000}"#) == "Parameter 'hubid' expects int32_t")
        #expect(try check("netdev_add", #"{"type": "hubport", "id": "h", "hubid": -3000000000}"#) == "Parameter 'hubid' expects int32_t")
        #expect(try check("netdev_add", #"{"type": "hubport", "id": "h", "hubid": "x"}"#) == "Invalid parameter type for 'hubid', expected: integer")
        #expect(try check("netdev_add", #"{"type": "nosuch", "id": "h"}"#) == "Parameter 'type' does not accept value 'nosuch'")
        #expect(try check("netdev_add", #"{"id": "h"}"#) == "Parameter 'type' is missing")
        #expect(try check("netdev_add", #"{"type": 1, "id": "h"}"#) == "Invalid parameter type for 'type', expected: string")
        #expect(try check("netdev_add", #"{"type": "none", "id": "h", "extra": 1}"#) == "Parameter 'extra' is unexpected")
        #expect(try check("netdev_add", #"{"type": "hubport", "id": "h", "hubid": 1, "extra": 1}"#) == "Parameter 'extra' is unexpected")
        #expect(try check("netdev_add", #"{"type": "hubport", "id": "h"}"#) == "Parameter 'hubid' is missing")
        #expect(try check("netdev_add", #"{"type": "hubport", "hubid": 1}"#) == "Parameter 'id' is missing")
        #expect(try check("netdev_add", #"{"type": "hubport", "id": "h", "hubid": 2147483647}"#) == nil)
        #expect(try check("netdev_add", #"{"type": "none", "id": "h"}"#) == nil)
    }

    // migrate-set-parameters, QEMU 7.2:
    //   compress-level 300 / -1      -> Parameter 'compress-level' expects uint8_t
    //   compress-level "x" / 1.0     -> Parameter 'compress-level' expects uint64
    //   max-bandwidth (size) "x"/1.5 -> Parameter 'max-bandwidth' expects uint64
    //   max-bandwidth 18446744073709551616 -> the same; -1 and 18446744073709551615 pass the visitor
    //   downtime-limit (uint64) "x"  -> Parameter 'downtime-limit' expects uint64
    //   x-checkpoint-delay 4294967296 / -1 -> Parameter 'x-checkpoint-delay' expects uint32_t
    //   tls-creds 1 / true / {} / [] -> Invalid parameter type for 'tls-creds', expected: StrOrNull; null passes
    //   block-bitmap-mapping [{"node-name":"a"}] -> Parameter 'block-bitmap-mapping[0].alias' is missing
    //   ... "bitmaps":[{"name":"x"}] -> Parameter 'block-bitmap-mapping[0].bitmaps[0].alias' is missing
    //   ... "bitmaps":[1]            -> Invalid parameter type for 'block-bitmap-mapping[0].bitmaps[0]', expected: object
    @Test func unsignedSizesAndAlternates() throws {
        let c = "migrate-set-parameters"
        #expect(try check(c, #"{"compress-level": 300}"#) == "Parameter 'compress-level' expects uint8_t")
        #expect(try check(c, #"{"compress-level": -1}"#) == "Parameter 'compress-level' expects uint8_t")
        #expect(try check(c, #"{"compress-level": "x"}"#) == "Parameter 'compress-level' expects uint64")
        #expect(try check(c, #"{"compress-level": 1.0}"#) == "Parameter 'compress-level' expects uint64")
        #expect(try check(c, #"{"max-bandwidth": "x"}"#) == "Parameter 'max-bandwidth' expects uint64")
        #expect(try check(c, #"{"max-bandwidth": 1.5}"#) == "Parameter 'max-bandwidth' expects uint64")
        #expect(try check(c, #"{"max-bandwidth": 18446744073709551616}"#) == "Parameter 'max-bandwidth' expects uint64")
        #expect(try check(c, #"{"max-bandwidth": -1}"#) == nil)
        #expect(try check(c, #"{"max-bandwidth": 18446744073709551615}"#) == nil)
        #expect(try check(c, #"{"downtime-limit": "x"}"#) == "Parameter 'downtime-limit' expects uint64")
        #expect(try check(c, #"{"x-checkpoint-delay": 4294967296}"#) == "Parameter 'x-checkpoint-delay' expects uint32_t")
        #expect(try check(c, #"{"x-checkpoint-delay": -1}"#) == "Parameter 'x-checkpoint-delay' expects uint32_t")
        #expect(try check(c, #"{"x-checkpoint-delay": 4294967295}"#) == nil)
        for bad in ["1", "true", "{}", "[]"] {
            #expect(try check(c, #"{"tls-creds": \#(bad)}"#) == "Invalid parameter type for 'tls-creds', expected: StrOrNull")
        }
        #expect(try check(c, #"{"tls-creds": null}"#) == nil)
        #expect(try check(c, #"{"tls-creds": "creds0"}"#) == nil)
        #expect(try check(c, #"{"block-bitmap-mapping": [{"node-name": "a"}]}"#) == "Parameter 'block-bitmap-mapping[0].alias' is missing")
        #expect(try check(c, #"{"block-bitmap-mapping": [{"node-name": "a", "alias": "b", "bitmaps": [{"name": "x"}]}]}"#)
                == "Parameter 'block-bitmap-mapping[0].bitmaps[0].alias' is missing")
        #expect(try check(c, #"{"block-bitmap-mapping": [{"node-name": "a", "alias": "b", "bitmaps": [1]}]}"#)
                == "Invalid parameter type for 'block-bitmap-mapping[0].bitmaps[0]', expected: object")
    }

    // block-dirty-bitmap-merge, QEMU 7.2: an alternate in a list is named 'null':
    //   bitmaps [1]                         -> Invalid parameter type for 'null', expected: BlockDirtyBitmapOrStr
    //   bitmaps [{"node":"a"}]              -> Parameter 'bitmaps[0].name' is missing
    //   bitmaps [{"node":"a","name":"b","x":1}] -> Parameter 'bitmaps[0].x' is unexpected
    @Test func alternatesInLists() throws {
        let c = "block-dirty-bitmap-merge"
        #expect(try check(c, #"{"node": "n", "target": "t", "bitmaps": [1]}"#) == "Invalid parameter type for 'null', expected: BlockDirtyBitmapOrStr")
        #expect(try check(c, #"{"node": "n", "target": "t", "bitmaps": [{"node": "a"}]}"#) == "Parameter 'bitmaps[0].name' is missing")
        #expect(try check(c, #"{"node": "n", "target": "t", "bitmaps": [{"node": "a", "name": "b", "x": 1}]}"#) == "Parameter 'bitmaps[0].x' is unexpected")
        #expect(try check(c, #"{"node": "n", "target": "t", "bitmaps": ["b0", {"node": "a", "name": "b"}]}"#) == nil)
    }

    // query-cpu-model-expansion, QEMU 7.2:
    //   type "nope"                  -> Parameter 'type' does not accept value 'nope'
    //   model {}                     -> Parameter 'model.name' is missing
    //   model {"name":"x","bogus":1} -> Parameter 'model.bogus' is unexpected
    //   model "x"                    -> Invalid parameter type for 'model', expected: object
    //   props 1 / {"a":[1,null]}     -> pass the visitor ('any'), then "CPU model 'x' not found"
    @Test func nestedStructsAndAny() throws {
        let c = "query-cpu-model-expansion"
        #expect(try check(c, #"{"type": "nope", "model": {"name": "x"}}"#) == "Parameter 'type' does not accept value 'nope'")
        #expect(try check(c, #"{"type": "full", "model": {}}"#) == "Parameter 'model.name' is missing")
        #expect(try check(c, #"{"type": "full", "model": {"name": "x", "bogus": 1}}"#) == "Parameter 'model.bogus' is unexpected")
        #expect(try check(c, #"{"type": "full", "model": "x"}"#) == "Invalid parameter type for 'model', expected: object")
        #expect(try check(c, #"{"type": "full", "model": {"name": "x", "props": 1}}"#) == nil)
        #expect(try check(c, #"{"type": "full", "model": {"name": "x", "props": {"a": [1, null]}}}"#) == nil)
    }

    // device_add is "gen": false: QEMU 7.2 runs no visitor, so extra members
    // pass ({"driver":"nosuch","bogus":1} -> "'nosuch' is not a valid device model name")
    // and {"id":"x"} -> "Parameter 'driver' is missing" (from qdev). We still
    // check the declared members' types so handlers see what they declared.
    @Test func genFalseAcceptsExtraMembers() throws {
        #expect(try check("device_add", #"{"driver": "e1000", "mac": "52:54:00:12:34:56"}"#) == nil)
        #expect(try check("device_add", #"{"id": "x"}"#) == "Parameter 'driver' is missing")
        let (declaration, _) = try #require(Self.view.command("device_add"))
        #expect(declaration.allowsAnyArguments)
    }

    // Texts from QEMU 7.2's qobject-input-visitor.c and qapi-visit-core.c
    // (no command of 7.2 takes these types directly): number -> "number";
    // int8/uint16 ranges -> "expects int8_t"/"expects uint16_t"; an
    // alternate with an int branch takes any number and then visits it as
    // an int, so 1.5 -> "expected: integer"; QType is an enum.
    @Test func numbersNarrowIntegersAndQType() throws {
        #expect(try check("x-numbers", #"{"n": 1}"#) == nil)
        #expect(try check("x-numbers", #"{"n": 18446744073709551615}"#) == nil)
        #expect(try check("x-numbers", #"{"n": 1.5}"#) == nil)
        #expect(try check("x-numbers", #"{"n": "1"}"#) == "Invalid parameter type for 'n', expected: number")
        #expect(try check("x-numbers", #"{"i8": 128}"#) == "Parameter 'i8' expects int8_t")
        #expect(try check("x-numbers", #"{"i8": -128}"#) == nil)
        #expect(try check("x-numbers", #"{"u16": 65536}"#) == "Parameter 'u16' expects uint16_t")
        #expect(try check("x-numbers", #"{"alt": 1.5}"#) == "Invalid parameter type for 'alt', expected: integer")
        #expect(try check("x-numbers", #"{"alt": "x"}"#) == "Invalid parameter type for 'alt', expected: IntOrBool")
        #expect(try check("x-numbers", #"{"alt": true}"#) == nil)
        #expect(try check("x-numbers", #"{"q": "qdict"}"#) == nil)
        #expect(try check("x-numbers", #"{"q": "dict"}"#) == "Parameter 'q' does not accept value 'dict'")
    }

    /// `check(_:against:context:)` applies the same rules to a bare member map.
    @Test func memberMaps() throws {
        let members = try JSONValue(parsing: #"{"id": "str", "*count": "uint8", "*mode": "RunState"}"#)
        let good = try #require(try JSONValue(parsing: #"{"id": "x", "count": 3}"#).objectValue)
        #expect(Self.view.check(good, against: members, context: "guest action") == .success(good))
        #expect(Self.view.check(nil, against: members, context: "c") == .failure(.generic("Parameter 'id' is missing")))
        #expect(Self.view.check(["id": "x", "count": 256], against: members, context: "c") == .failure(.generic("Parameter 'count' expects uint8_t")))
        #expect(Self.view.check(["id": "x", "mode": "off"], against: members, context: "c") == .failure(.generic("Parameter 'mode' does not accept value 'off'")))
        #expect(Self.view.check(["id": "x", "zz": 1], against: members, context: "c") == .failure(.generic("Parameter 'zz' is unexpected")))
        if case .success = Self.view.check([:], against: ["x": "NoSuchType", "y": 1], context: "c") { Issue.record("bad member map accepted") }
    }
}
