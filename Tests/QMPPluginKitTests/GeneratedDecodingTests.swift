import QAPISchema
@testable import QMPPluginKit
import QMPWire
import Testing

/// The generated decoders of the common `sockets.json` types, beside the
/// host's argument checker: a value the checker passes decodes, and where a
/// decoder meets a value the checker never saw, it refuses it with the text
/// the checker (QEMU's input visitor) gives, never a default.
@Suite struct GeneratedDecodingTests {
    /// A command taking a SocketAddress, in a schema that includes sockets.json.
    let view: SchemaView
    let command: CommandDeclaration

    init() throws {
        let schema = QAPIIncludes.expand(Array(#"[{"include": "sockets.json"}, {"command": "t", "data": {"addr": "SocketAddress"}}]"#.utf8))
        let module = try SchemaModule(name: "t", expressions: try JSONValue(parsing: schema))
        view = try SchemaView(modules: [module])
        command = try #require(view.command("t")?.0)
    }

    private func decoded(_ arguments: JSONObject) -> Result<QAPI.SocketAddress, QMPError> {
        Result { () throws(QMPError) in try arguments.required("addr", at: .root) }
    }

    @Test func includeIsExpandedOnce() throws {
        let twice = QAPIIncludes.expand(Array(#"[{"include": "sockets.json"}, {"include": "common.json"}]"#.utf8))
        let names = try JSONValue(parsing: twice).arrayValue?.compactMap { $0["struct"]?.stringValue ?? $0["union"]?.stringValue ?? $0["enum"]?.stringValue }
        #expect(names == ["String", "IoOperationType", "OnOffAuto", "NetworkAddressFamily", "SocketAddressType", "InetSocketAddressBase",
                          "InetSocketAddress", "UnixSocketAddress", "VsockSocketAddress", "InetSocketAddressWrapper", "UnixSocketAddressWrapper",
                          "VsockSocketAddressWrapper", "StringWrapper", "SocketAddressLegacy", "SocketAddress"])
    }

    /// Spliced as written: re-written, members would come out in QDict order,
    /// and the host compares a type two plugins declare member by member.
    @Test func expressionsKeepTheirText() {
        let own = #"{"struct": "X", "data": {"b": "str", "a": "str"}}"#
        let text = String(decoding: QAPIIncludes.expand(Array("[\n  \(own),\n  {\"include\": \"common.json\"}\n]\n".utf8)), as: UTF8.self)
        #expect(text == """
            [\(own),
            {"struct": "String", "data": {"str": "str"}},
            {"enum": "IoOperationType", "data": ["read", "write"]},
            {"enum": "OnOffAuto", "data": ["auto", "on", "off"]},
            {"alternate": "StrOrNull", "data": {"s": "str", "n": "null"}}]

            """)
    }

    @Test func wellTypedArgumentsDecode() throws {
        let args: JSONObject = ["addr": ["type": "inet", "host": "localhost", "port": "4444", "to": 4450]]
        #expect(view.checkArguments(of: command, args).map { _ in true } == .success(true))
        let address = try decoded(args).get()
        #expect(address.type == .inet)
        #expect(address.variant == .inet(QAPI.InetSocketAddress(host: "localhost", port: "4444", to: 4450)))
        #expect(address.qapiValue == args["addr"])
    }

    @Test func refusalsMatchTheChecker() {
        let refused: [JSONObject] = [
            [:],
            ["addr": "unix"],
            ["addr": ["type": "inet", "host": "h"]],
            ["addr": ["type": "unix", "path": 5]],
            ["addr": ["type": "tcp"]],
            ["addr": ["type": "fd", "str": ["x"]]],
            ["addr": ["type": "inet", "host": "h", "port": "1", "ipv4": "yes"]],
        ]
        for args in refused {
            guard case .failure(let checker) = view.checkArguments(of: command, args) else {
                Issue.record("the checker passed \(JSONValue.object(args).jsonText)")
                continue
            }
            #expect(decoded(args).map { _ in "decoded" } == .failure(checker), "\(JSONValue.object(args).jsonText)")
        }
    }
}
