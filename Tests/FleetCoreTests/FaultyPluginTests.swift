@testable import FleetCore
import Foundation
import QMPFleetTesting
import QMPWire
import Testing

/// Plugins that misbehave are contained: the client gets a QMP error, the
/// VM and the fleet carry on.
@Suite(.serialized)
struct FaultyPluginTests {
    static let source = #"""
    #include <qmp_plugin.h>
    #include <string.h>
    static const qmp_host_api *host;
    static const char schema[] = "[{\"command\": \"x-silent\"}, {\"command\": \"x-twice\"},"
        " {\"command\": \"x-garbage\"}, {\"command\": \"x-badclass\"}, {\"command\": \"x-undeclared-event\"},"
        " {\"command\": \"x-late\"}]";
    static qmp_request late;
    static void silent(void *i, qmp_request r, const char *a, size_t n, void *u) { late = r; }
    static void twice(void *i, qmp_request r, const char *a, size_t n, void *u) { host->reply(r, "{}", 2); host->reply(r, "{}", 2); }
    static void garbage(void *i, qmp_request r, const char *a, size_t n, void *u) { host->reply(r, "{nope", 5); }
    static void badclass(void *i, qmp_request r, const char *a, size_t n, void *u) { host->reply_error(r, (qmp_error_class)77, "odd"); }
    static void undeclared(void *i, qmp_request r, const char *a, size_t n, void *u) {
        host->emit_event((qmp_vm *)i, "NOT_DECLARED", NULL, 0); host->reply(r, "{}", 2); }
    static void answer_late(void *i, qmp_request r, const char *a, size_t n, void *u) { host->reply(late, "{}", 2); host->reply(r, "{}", 2); }
    static int init(const qmp_host_api *api, qmp_plugin_ctx *ctx, char *e, size_t el) {
        host = api;
        api->declare_schema(ctx, schema, strlen(schema));
        api->bind_command(ctx, "x-silent", silent, 0); api->bind_command(ctx, "x-twice", twice, 0);
        api->bind_command(ctx, "x-garbage", garbage, 0); api->bind_command(ctx, "x-badclass", badclass, 0);
        api->bind_command(ctx, "x-undeclared-event", undeclared, 0); api->bind_command(ctx, "x-late", answer_late, 0);
        return 0;
    }
    static int create(qmp_vm *vm, const char *c, size_t n, void **inst, char *e, size_t el) { *inst = vm; return 0; }
    static void destroy(void *i) {}
    static const qmp_plugin_descriptor d = { QMP_PLUGIN_ABI_VERSION, sizeof(qmp_plugin_descriptor), "faulty", "0.1", init, create, destroy, 0, 0 };
    __attribute__((visibility("default"))) const qmp_plugin_descriptor *qmp_plugin_entry(void) { return &d; }
    """#

    @Test func eachFaultIsContained() throws {
        let dir = PluginLoaderTests.makeDir()
        try PluginLoaderTests.buildPlugin("faulty", source: Self.source, in: dir)
        let fleet = try TestFleet(yaml: "limits: {plugin-reply-timeout-ms: 5000}\nvms: [{name: vm0, plugins: [faulty]}]", pluginDirectories: [dir])
        let client = fleet.connect(to: "vm0")
        client.negotiate()
        #expect(client.call("x-twice")?["return"] == .object([:]))
        #expect(client.call("x-garbage")?["error"]?["desc"] == "Plugin 'faulty' replied to 'x-garbage' with invalid JSON")
        #expect(client.call("x-badclass")?["error"] == ["class": "GenericError", "desc": "odd"])
        #expect(client.call("x-undeclared-event")?["return"] == .object([:]))
        #expect(client.takeEvents().isEmpty)
        // A command left unanswered holds that client's queue until the timeout...
        let silent = client.execute("x-silent")
        let next = client.execute("query-status")
        #expect(client.reply(id: silent) == nil)
        #expect(client.reply(id: next) == nil)
        // ...while other clients are not held up.
        let other = fleet.connect(to: "vm0")
        other.negotiate()
        #expect(other.call("query-status")?["return"]?["status"] == "running")
        fleet.advance(by: 5000)
        #expect(client.reply(id: silent)?["error"]?["desc"] == "Plugin 'faulty' did not answer 'x-silent' in time")
        #expect(client.reply(id: next)?["return"]?["status"] == "running")
        // A late answer to the timed-out request is ignored.
        #expect(client.call("x-late")?["return"] == .object([:]))
        #expect(client.call("query-status")?["return"] != nil)
    }

    /// A plugin that answers before its handler returns costs no timer;
    /// one that returns without answering has its timeout timer until it
    /// answers, and a token answered twice or after the fact is ignored.
    @Test func timeoutTimerOnlyForRequestsLeftUnanswered() throws {
        let dir = PluginLoaderTests.makeDir()
        try PluginLoaderTests.buildPlugin("faulty", source: Self.source, in: dir)
        let fleet = try TestFleet(yaml: "limits: {plugin-reply-timeout-ms: 5000}\nvms: [{name: vm0, plugins: [faulty]}]", pluginDirectories: [dir])
        let client = fleet.connect(to: "vm0")
        client.negotiate()
        let scheduled = fleet.clock.scheduledCount
        #expect(client.call("x-twice")?["return"] == .object([:]))
        #expect(client.call("x-badclass")?["error"]?["desc"] == "odd")
        #expect(fleet.clock.scheduledCount == scheduled)
        let waiting = fleet.clock.pendingCount
        let silent = client.execute("x-silent")
        #expect(fleet.clock.scheduledCount == scheduled + 1)
        #expect(fleet.clock.pendingCount == waiting + 1)
        #expect(client.reply(id: silent) == nil)
        // Another client's x-late answers the silent request from inside its
        // own handler, then its own: both arrive, and the timer is gone.
        let other = fleet.connect(to: "vm0")
        other.negotiate()
        #expect(other.call("x-late")?["return"] == .object([:]))
        #expect(client.reply(id: silent)?["return"] == .object([:]))
        #expect(fleet.clock.pendingCount == waiting)
        // Answered already: a second answer to that token changes nothing.
        #expect(other.call("x-late")?["return"] == .object([:]))
        #expect(client.drain().isEmpty)
        fleet.advance(by: 10_000)
        #expect(client.drain().isEmpty)
        #expect(client.call("query-status")?["return"] != nil)
    }

    /// Every plugin command is counted, timed and kept in the VM's history
    /// once, whether the plugin answered inside its handler (recorded in
    /// place, `VM.route`), later from another handler, or not at all (the
    /// timeout's error): an answer given twice is counted once.
    @Test func eachAnswerIsCountedAndKeptOnce() throws {
        let dir = PluginLoaderTests.makeDir()
        try PluginLoaderTests.buildPlugin("faulty", source: Self.source, in: dir)
        let fleet = try TestFleet(yaml: "limits: {plugin-reply-timeout-ms: 5000}\nvms: [{name: vm0, plugins: [faulty]}]", pluginDirectories: [dir])
        let vm = try #require(fleet.vm("vm0"))
        let client = fleet.connect(to: "vm0")
        client.negotiate()
        #expect(client.call("x-twice")?["return"] == .object([:]))
        #expect(client.call("x-badclass")?["error"]?["desc"] == "odd")
        let silent = client.execute("x-silent")
        let other = fleet.connect(to: "vm0")
        other.negotiate()
        #expect(other.call("x-late")?["return"] == .object([:]))
        #expect(client.reply(id: silent)?["return"] == .object([:]))
        let unanswered = client.execute("x-silent")
        fleet.advance(by: 5000)
        #expect(client.reply(id: unanswered)?["error"]?["desc"] == "Plugin 'faulty' did not answer 'x-silent' in time")

        let counts = vm.metrics.commands.mapValues { $0.outcomes.reduce(0, +) }
        #expect(counts["x-twice"] == 1)
        #expect(counts["x-badclass"] == 1)
        #expect(counts["x-silent"] == 2)
        #expect(counts["x-late"] == 1)
        #expect(vm.metrics.pluginReplies["faulty"]?.latency.count == 5)
        let history = vm.watch(1) { _ in }
        for (name, times) in [("x-twice", 1), ("x-badclass", 1), ("x-silent", 2), ("x-late", 1)] {
            // The page's record holds the request as text: `"request": "{\"execute\": \"x-twice\"}"`.
            let request = #"\"execute\": \""# + name + #"\""#
            #expect(history.filter { $0.contains(request) }.count == times, "\(name): \(history)")
        }
    }

    /// Requests queued behind one in flight: past the limit the session stops
    /// reading (as QEMU suspends a monitor), and resumes as the queue drains.
    @Test func pendingCommandsPauseInputAndResume() throws {
        let dir = PluginLoaderTests.makeDir()
        try PluginLoaderTests.buildPlugin("faulty", source: Self.source, in: dir)
        let fleet = try TestFleet(yaml: "limits: {pending-commands-per-session: 3, plugin-reply-timeout-ms: 100}\nvms: [{name: vm0, plugins: [faulty]}]",
                                  pluginDirectories: [dir])
        let client = fleet.connect(to: "vm0")
        client.negotiate()
        client.execute("x-silent")
        client.write(String(repeating: #"{"execute": "query-status"}"#, count: 2))
        #expect(!client.isInputPaused)
        client.write(#"{"execute": "query-status"}"#)
        #expect(client.isInputPaused)
        fleet.advance(by: 100)
        #expect(!client.isInputPaused)
        #expect(client.drain().count == 4)
    }
}
