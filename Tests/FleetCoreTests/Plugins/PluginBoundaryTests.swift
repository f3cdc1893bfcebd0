@testable import FleetCore
@testable import PluginHost
import Foundation
import QMPFleetTesting
import QMPWire
import Testing

/// What crosses the plugin boundary and how often it is converted: a
/// plugin's reply or event text already in QEMU's form goes into the
/// client's line as it is; any other form still reaches the client as QEMU
/// writes it.
@Suite(.serialized)
struct PluginBoundaryTests {
    /// A C plugin that answers `x-reply` with the text the test chose
    /// for `which`, and `x-event` with an `X_EVENT` for each of `events`.
    /// `x-args` answers `{"text": ARGS}`, the arguments' text as the plugin
    /// got it. `abi` is the version the plugin declares (and wants the
    /// host's table to have).
    /// `extraCases`: C statements before the reply cases (a test's own answers).
    static func source(replies: [String: String] = [:], events: [String] = [], abi: String = "QMP_PLUGIN_ABI_VERSION",
                       extraCases: String = "") -> String {
        func literal(_ text: String) -> String {
            "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        let cases = replies.keys.sorted().map { which in
            "    if (strstr(args, \(literal("\"" + which + "\"")))) { host->reply(req, \(literal(replies[which]!)), strlen(\(literal(replies[which]!)))); return; }"
        }.joined(separator: "\n") + (extraCases.isEmpty ? "" : "\n" + extraCases)
        let emits = events.map { "    host->emit_event(s->vm, \"X_EVENT\", \(literal($0)), strlen(\(literal($0))));" }.joined(separator: "\n")
        return """
        #include <qmp_plugin.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        static const qmp_host_api *host;
        #define ABI \(abi)
        static const char schema[] = "[{\\"command\\": \\"x-reply\\", \\"data\\": {\\"which\\": \\"str\\"}},"
            " {\\"command\\": \\"x-args\\", \\"data\\": {\\"*b\\": \\"int\\", \\"*a\\": \\"str\\", \\"*c\\": [\\"int\\"]}},"
            " {\\"command\\": \\"x-event\\"}, {\\"event\\": \\"X_EVENT\\", \\"data\\": {\\"*a\\": \\"any\\"}}]";
        struct state { qmp_vm *vm; };
        static void reply_cmd(void *instance, qmp_request req, const char *args, size_t len, void *user_data) {
            (void)instance; (void)len; (void)user_data;
        \(cases)
            host->reply_error(req, QMP_ERROR_GENERIC, "no such reply");
        }
        static void event_cmd(void *instance, qmp_request req, const char *args, size_t len, void *user_data) {
            (void)args; (void)len; (void)user_data;
            struct state *s = instance;
        \(emits)
            host->reply(req, "{}", 2);
        }
        static void args_cmd(void *instance, qmp_request req, const char *args, size_t len, void *user_data) {
            (void)instance; (void)user_data;
            char out[1024];
            size_t n = (size_t)snprintf(out, sizeof out, "{\\"text\\": \\"");
            for (size_t i = 0; i < len && n < sizeof out - 8; i++) {
                if (args[i] == '"' || args[i] == '\\\\') out[n++] = '\\\\';
                out[n++] = args[i];
            }
            if (args[len] != '\\0') { host->reply_error(req, QMP_ERROR_GENERIC, "not NUL-terminated"); return; }
            n += (size_t)snprintf(out + n, sizeof out - n, "\\"}");
            host->reply(req, out, n);
        }
        static int init(const qmp_host_api *api, qmp_plugin_ctx *ctx, char *err, size_t err_len) {
            if (api->abi_version != ABI) { snprintf(err, err_len, "host table is ABI %u", api->abi_version); return -1; }
            host = api;
            if (api->declare_schema(ctx, schema, strlen(schema)) != 0) return -1;
            if (api->bind_command(ctx, "x-args", args_cmd, NULL) != 0) return -1;
            if (api->bind_command(ctx, "x-reply", reply_cmd, NULL) != 0) return -1;
            return api->bind_command(ctx, "x-event", event_cmd, NULL);
        }
        static int create(qmp_vm *vm, const char *config, size_t len, void **instance, char *err, size_t err_len) {
            (void)config; (void)len; (void)err; (void)err_len;
            struct state *s = calloc(1, sizeof(*s));
            s->vm = vm;
            *instance = s;
            return 0;
        }
        static void destroy(void *instance) { free(instance); }
        static const qmp_plugin_descriptor descriptor = {
            .abi_version = ABI, .struct_size = sizeof(qmp_plugin_descriptor),
            .name = "boundary", .version = "1", .init = init, .vm_create = create, .vm_destroy = destroy,
        };
        __attribute__((visibility("default"))) const qmp_plugin_descriptor *qmp_plugin_entry(void) { return &descriptor; }
        """
    }

    /// The line the client got for request `id`, as bytes.
    static func line(of client: TestClient, id: Int) -> String? {
        let text = String(decoding: client.rawOutput, as: UTF8.self)
        return text.components(separatedBy: "\r\n").first { $0.hasSuffix("\"id\": \(id)}") }
    }

    /// Two keys that share a QDict bucket: their written order is the
    /// reverse of the order the plugin inserted them, which a parse and a
    /// rewrite would flip back (QEMU writes the plugin's order). Only a
    /// reply whose text is passed through keeps either order.
    @Test func replyInQEMUsFormIsPassedThroughByteForByte() throws {
        var seen: [UInt32: String] = [:]
        var pair: (String, String)?
        for n in 0..<2000 where pair == nil {
            let key = "k\(n)"
            if let other = seen[QDictOrder.bucket(of: key)] { pair = (other, key) }
            seen[QDictOrder.bucket(of: key)] = key
        }
        let (a, b) = try #require(pair)
        let forward = "{\"\(a)\": 1, \"\(b)\": [\"\\u00E9\", {}]}"
        let backward = "{\"\(b)\": 1, \"\(a)\": true}"
        let sloppy = "{ \"s\" : \"\u{E9}\\u00e9\\/\" ,\"status\":[1 ,2], \"running\": 1.0}"
        let dir = PluginLoaderTests.makeDir()
        try PluginLoaderTests.buildPlugin("boundary", source: Self.source(
            replies: ["forward": forward, "backward": backward, "sloppy": sloppy], events: [forward, sloppy]), in: dir)
        let fleet = try TestFleet(yaml: "vms: [{name: vm0, plugins: [boundary]}]", pluginDirectories: [dir])
        let client = fleet.connect(to: "vm0")
        client.negotiate()

        let first = client.execute("x-reply", ["which": "forward"])
        #expect(Self.line(of: client, id: first) == "{\"return\": \(forward), \"id\": \(first)}")
        let second = client.execute("x-reply", ["which": "backward"])
        #expect(Self.line(of: client, id: second) == "{\"return\": \(backward), \"id\": \(second)}")

        // Spaces, member order, raw non-ASCII, a lowercase escape, an escaped
        // slash and a float: parsed and written as QEMU writes them.
        let qemuForm = try JSONValue(parsing: sloppy).jsonText
        #expect(qemuForm.hasPrefix("{\"") && !qemuForm.contains("\u{E9}") && qemuForm != sloppy)
        let third = client.execute("x-reply", ["which": "sloppy"])
        #expect(Self.line(of: client, id: third) == "{\"return\": \(qemuForm), \"id\": \(third)}")

        // An event's data: the same.
        _ = client.call("x-event")
        let events = String(decoding: client.rawOutput, as: UTF8.self).components(separatedBy: "\r\n").filter { $0.contains("X_EVENT") }
        #expect(events.count == 2)
        #expect(events.first?.hasSuffix("\"event\": \"X_EVENT\", \"data\": \(forward)}") == true, "\(events)")
        #expect(events.last?.hasSuffix("\"event\": \"X_EVENT\", \"data\": \(qemuForm)}") == true, "\(events)")
    }

    /// A plugin built for ABI 2 gets a request's arguments as the client
    /// sent them (parsed once, by the plugin); one built for ABI 1 (every
    /// plugin before it) still loads, sees a host table of version 1, and
    /// gets the host's text in QEMU's form, as before. Arguments the host's
    /// parser read the long way (an escape) are the host's text for both.
    @Test(arguments: [1, 2]) func argumentsAsSentToABI2InQEMUsFormToABI1(abi: Int) throws {
        let dir = PluginLoaderTests.makeDir()
        try PluginLoaderTests.buildPlugin("boundary", source: Self.source(abi: "\(abi)u"), in: dir)
        let fleet = try TestFleet(yaml: "vms: [{name: vm0, plugins: [boundary]}]", pluginDirectories: [dir])
        #expect(fleet.vm("vm0")?.plugins.first?.library.abiVersion == UInt32(abi))
        let client = fleet.connect(to: "vm0")
        client.negotiate()
        let asSent = #"{ "b":1,"a":"x" ,"c":[1, 2]}"#
        let rewritten = try JSONValue(parsing: asSent).jsonText
        #expect(rewritten != asSent)
        client.write(#"{"execute":"x-args","arguments":"# + asSent + #","id":7}"#)
        #expect(client.reply(id: 7)?["return"]?["text"] == .string(abi >= 2 ? asSent : rewritten))

        let escaped = #"{"a": "é"}"#
        client.write(#"{"execute": "x-args", "arguments": "# + escaped + #", "id": 8}"#)
        #expect(client.reply(id: 8)?["return"]?["text"] == .string(try JSONValue(parsing: escaped).jsonText))
        // Without arguments: {} for both.
        #expect(client.call("x-args")?["return"]?["text"] == "{}")
    }

    /// A reply the plugin gives again is recognised by its bytes: the host
    /// hands the text it kept (the same storage, so the session's reply
    /// cache reuses its line), and a plugin that rewrites its buffer in
    /// place (same address, same length, new bytes) has each new text sent.
    @Test func aRepeatedReplyIsTheKeptTextAndAChangedOneIsSent() throws {
        let dir = PluginLoaderTests.makeDir()
        // `counter` answers {"n": 1}, {"n": 2}, ... from one static buffer.
        let counter = #"    if (strstr(args, "\"counter\"")) { static char buf[] = "{\"n\": 0}"; buf[6]++; host->reply(req, buf, strlen(buf)); return; }"#
        try PluginLoaderTests.buildPlugin("boundary", source: Self.source(replies: ["same": #"{"a": [1, 2]}"#], extraCases: counter), in: dir)
        let fleet = try TestFleet(yaml: "vms: [{name: vm0, plugins: [boundary]}]", pluginDirectories: [dir])
        let client = fleet.connect(to: "vm0")
        client.negotiate()
        for n in 1...3 {
            let id = client.execute("x-reply", ["which": "counter"])
            #expect(Self.line(of: client, id: id) == "{\"return\": {\"n\": \(n)}, \"id\": \(id)}")
            let same = client.execute("x-reply", ["which": "same"])
            #expect(Self.line(of: client, id: same) == "{\"return\": {\"a\": [1, 2]}, \"id\": \(same)}")
        }
        client.write(#"{"execute": "x-reply", "arguments": {"which": "same"}}"#)
        client.write(#"{"execute": "x-reply", "arguments": {"which": "same"}}"#)
        let lines = String(decoding: client.rawOutput, as: UTF8.self).components(separatedBy: "\r\n")
        #expect(lines.filter { $0 == #"{"return": {"a": [1, 2]}}"# }.count == 2)

        let instance = try #require(fleet.vm("vm0")?.plugins.first)
        let text = Array(#"{"b": "kept"}"#.utf8)
        let first = try #require(text.withUnsafeBytes { instance.canonicalReply($0) })
        let again = try #require(text.withUnsafeBytes { instance.canonicalReply($0) })
        #expect(first.bytes == text && again.bytes == text)
        #expect(first.bytes.withUnsafeBufferPointer { $0.baseAddress } == again.bytes.withUnsafeBufferPointer { $0.baseAddress })
        // Not QEMU's form: not kept, parsed and rewritten by the caller.
        #expect(Array("{ }".utf8).withUnsafeBytes { instance.canonicalReply($0) } == nil)
    }

    /// An answer given inside the handler is kept until the handler
    /// returns, then sent: an event the handler emits after calling `reply`
    /// still goes out before the reply, as QEMU sends the events of a
    /// command before its reply. A second answer inside the same handler is
    /// ignored, and the request is answered once.
    @Test func anAnswerInsideTheHandlerIsSentWhenItReturns() throws {
        let dir = PluginLoaderTests.makeDir()
        let replyThenEmit = #"    if (strstr(args, "\"then-event\"")) { struct state *s = instance; host->reply(req, "{\"r\": 1}", 8); host->emit_event(s->vm, "X_EVENT", "{\"a\": 1}", 8); host->reply(req, "{}", 2); return; }"#
        try PluginLoaderTests.buildPlugin("boundary", source: Self.source(extraCases: replyThenEmit), in: dir)
        let fleet = try TestFleet(yaml: "vms: [{name: vm0, plugins: [boundary]}]", pluginDirectories: [dir])
        let client = fleet.connect(to: "vm0")
        client.negotiate()
        let id = client.execute("x-reply", ["which": "then-event"])
        let lines = String(decoding: client.rawOutput, as: UTF8.self).components(separatedBy: "\r\n")
        let event = try #require(lines.firstIndex { $0.contains("\"event\": \"X_EVENT\", \"data\": {\"a\": 1}}") })
        let reply = try #require(lines.firstIndex { $0 == "{\"return\": {\"r\": 1}, \"id\": \(id)}" })
        #expect(event < reply)
        #expect(lines.filter { $0.hasSuffix("\"id\": \(id)}") }.count == 1)
        #expect(client.call("query-status")?["return"] != nil)
    }

    /// The VM and its plugin instances hold each other, and a session its
    /// VM, strongly while they live (no weak references: no side tables);
    /// ending the VM breaks every one of those cycles, so it is freed.
    @Test func anEndedVMIsFreedWithItsClientStillConnected() throws {
        let dir = PluginLoaderTests.makeDir()
        try PluginLoaderTests.buildPlugin("boundary", source: Self.source(replies: ["same": "{}"]), in: dir)
        let fleet = try TestFleet(yaml: "vms: [{name: vm0, plugins: [boundary]}]", pluginDirectories: [dir])
        let client = fleet.connect(to: "vm0")
        client.negotiate()
        #expect(client.call("x-reply", ["which": "same"])?["return"] == .object([:]))
        weak var vm = fleet.vm("vm0")
        weak var instance = fleet.vm("vm0")?.plugins.first
        #expect(vm != nil && instance != nil)
        fleet.router.destroyVM(try #require(fleet.vm("vm0")))
        #expect(vm == nil)
        #expect(instance == nil)
    }
}
