import FleetCore
import QMPFleetTesting
import QMPWire
import Testing

/// Out-of-band execution as QEMU 7.2's monitor does it (issue 18), with a
/// plugin whose `x-hold` stays in flight until `x-release` and whose
/// `x-ping` is declared `allow-oob` in its schema. Every error text was
/// checked on qemu-system-x86_64 7.2 (-machine pc -nodefaults).
@Suite(.serialized)
struct OutOfBandTests {
    static let source = #"""
    #include <qmp_plugin.h>
    #include <string.h>
    static const qmp_host_api *host;
    static const char schema[] = "[{\"command\": \"x-hold\"}, {\"command\": \"x-release\"},"
        " {\"command\": \"x-ping\", \"allow-oob\": true}]";
    static qmp_request held; static int holding;
    static void hold(void *i, qmp_request r, const char *a, size_t n, void *u) { held = r; holding = 1; }
    static void release(void *i, qmp_request r, const char *a, size_t n, void *u) {
        if (holding) { holding = 0; host->reply(held, "{}", 2); } host->reply(r, "{}", 2); }
    static void ping(void *i, qmp_request r, const char *a, size_t n, void *u) { host->reply(r, "\"pong\"", 6); }
    static int init(const qmp_host_api *api, qmp_plugin_ctx *ctx, char *e, size_t el) {
        host = api;
        api->declare_schema(ctx, schema, strlen(schema));
        api->bind_command(ctx, "x-hold", hold, 0); api->bind_command(ctx, "x-release", release, 0);
        api->bind_command(ctx, "x-ping", ping, 0);
        return 0;
    }
    static int create(qmp_vm *vm, const char *c, size_t n, void **inst, char *e, size_t el) { *inst = vm; return 0; }
    static void destroy(void *i) {}
    static const qmp_plugin_descriptor d = { QMP_PLUGIN_ABI_VERSION, sizeof(qmp_plugin_descriptor), "holder", "0.1", init, create, destroy, 0, 0 };
    __attribute__((visibility("default"))) const qmp_plugin_descriptor *qmp_plugin_entry(void) { return &d; }
    """#

    let fleet: TestFleet

    init() throws {
        let dir = PluginLoaderTests.makeDir()
        try PluginLoaderTests.buildPlugin("holder", source: Self.source, in: dir)
        fleet = try TestFleet(yaml: "limits: {plugin-reply-timeout-ms: 600000}\nvms: [{name: vm0, plugins: [holder]}]", pluginDirectories: [dir])
    }

    func client(oob: Bool) -> TestClient {
        let client = fleet.connect(to: "vm0")
        _ = client.drain()
        client.write(oob ? #"{"execute": "qmp_capabilities", "arguments": {"enable": ["oob"]}}"# : #"{"execute": "qmp_capabilities"}"#)
        #expect(client.drain() == [["return": [:]]])
        return client
    }

    /// Ids of the replies received so far, in order.
    func ids(_ client: TestClient) -> [JSONValue] { client.drain().compactMap { $0["id"] } }

    func release() {
        #expect(fleet.negotiatedClient(to: "vm0").call("x-release")?["return"] == .object([:]))
    }

    @Test func execOOBWithoutTheCapabilityIsAnUnexpectedMemberInOrder() {
        let c = client(oob: false)
        c.write(#"{"execute": "x-hold", "id": 1}{"exec-oob": "x-ping", "id": 2}"#)
        #expect(c.drain().isEmpty)
        release()
        #expect(c.drain() == [["return": [:], "id": 1],
                              ["id": 2, "error": ["class": "GenericError", "desc": "QMP input member 'exec-oob' is unexpected"]]])
    }

    @Test func onlyAllowOOBCommandsRunOutOfBand() {
        let c = client(oob: true)
        c.write(#"{"execute": "x-hold", "id": 1}{"exec-oob": "query-status", "id": 2}{"exec-oob": "qmp_capabilities", "id": 3}"#
            + #"{"exec-oob": "nosuch", "id": 4}{"exec-oob": "x-ping", "id": 5, "arguments": {"a": 1}}{"exec-oob": "x-ping", "execute": "x-ping", "id": 6}"#)
        // Each is answered at once, ahead of the held in-band command, as
        // QEMU's I/O thread answers them; 6 has `execute`, so it is in-band.
        #expect(c.drain() == [
            ["id": 2, "error": ["class": "GenericError", "desc": "The command query-status does not support OOB"]],
            ["id": 3, "error": ["class": "GenericError", "desc": "The command qmp_capabilities does not support OOB"]],
            ["id": 4, "error": ["class": "CommandNotFound", "desc": "The command nosuch has not been found"]],
            ["id": 5, "error": ["class": "GenericError", "desc": "Parameter 'a' is unexpected"]],
        ])
        release()
        #expect(c.drain() == [["return": [:], "id": 1],
                              ["id": 6, "error": ["class": "GenericError", "desc": "QMP input member 'execute' clashes with 'exec-oob'"]]])
    }

    @Test func outOfBandOvertakesQueuedInBandCommands() {
        let c = client(oob: true)
        c.write(#"{"execute": "x-hold", "id": 1}{"execute": "query-status", "id": 2}{"exec-oob": "x-ping", "id": 3}{"exec-oob": "query-yank", "id": 4}"#)
        #expect(c.drain() == [["return": "pong", "id": 3], ["return": [["type": "chardev", "id": "compat_monitor0"]], "id": 4]])
        release()
        #expect(ids(c) == [1, 2])
    }

    /// QEMU queues at most 8 in-band requests behind the one running, then
    /// stops reading: an OOB request after the 8th waits with the rest;
    /// after the 7th it runs at once. Nothing is dropped.
    @Test(arguments: [7, 8])
    func fullInBandQueueStopsReading(queued: Int) {
        let c = client(oob: true)
        var text = #"{"execute": "x-hold", "id": 0}"#
        for i in 1...queued { text += #"{"execute": "query-status", "id": \#(i)}"# }
        text += #"{"exec-oob": "x-ping", "id": "oob"}{"execute": "query-status", "id": "last"}"#
        c.write(text)
        #expect(ids(c) == (queued < 8 ? ["oob"] : []))
        // Either way 8 wait now ("last" is the 8th when 7 came before it).
        #expect(c.isInputPaused)
        release()
        let expected: [JSONValue] = (0...queued).map { .int(Int64($0)) }
        // With 8 queued, the OOB request is read once the queue has room;
        // the queued commands answer at once, so they drain first (QEMU
        // 7.2 answered hold, 1...8, oob, last here).
        #expect(ids(c) == (queued < 8 ? expected : expected + ["oob"]) + ["last"])
        #expect(!c.isInputPaused)
    }

    /// Without OOB, QEMU runs one command at a time; the session parses
    /// ahead at most `pending-commands-per-session` requests.
    @Test func withoutOOBTheQueueIsBoundedToo() {
        let c = client(oob: false)
        c.write(#"{"execute": "x-hold", "id": 0}"# + String(repeating: #"{"execute": "query-status", "id": 1}"#, count: 20))
        #expect(c.isInputPaused)
        release()
        #expect(ids(c).count == 21)
        #expect(!c.isInputPaused)
    }

    @Test func yankOfAnUnknownInstanceIsRefusedAndYankingTheMonitorClosesItsClients() {
        let c = client(oob: true)
        let other = fleet.negotiatedClient(to: "vm0")
        c.write(#"{"exec-oob": "yank", "id": 1, "arguments": {"instances": [{"type": "chardev", "id": "compat_monitor0"}, {"type": "migration"}]}}"#)
        #expect(c.drain() == [["id": 1, "error": ["class": "DeviceNotFound", "desc": "Instance not found"]]])
        #expect(c.call("yank", ["instances": []])?["return"] == .object([:]))
        #expect(!c.isClosed && !other.isClosed)
        c.write(#"{"exec-oob": "yank", "id": 2, "arguments": {"instances": [{"type": "chardev", "id": "compat_monitor0"}]}}"#)
        #expect(c.drain().isEmpty, "QEMU sends no reply: the monitor's socket is shut down")
        #expect(c.isClosed && other.isClosed)
        #expect(fleet.vm("vm0")?.sessions.isEmpty == true)
        #expect(fleet.negotiatedClient(to: "vm0").call("query-yank")?["return"] == [["type": "chardev", "id": "compat_monitor0"]])
    }

    /// The schema marks what may run out of band, as QEMU's does.
    @Test func schemaMarksAllowOOB() {
        let schema = fleet.negotiatedClient(to: "vm0").call("query-qmp-schema")?["return"]?.arrayValue ?? []
        let marked = schema.filter { $0["allow-oob"] == true }.compactMap { $0["name"]?.stringValue }
        #expect(Set(marked) == ["yank", "query-yank", "x-ping"])
    }
}
