"""Examples/SwiftPlugin, a plugin package of its own written from
docs/plugins.md alone: it builds against this checkout's QMPPluginKit,
the built qmpfleet loads its libqmp-counter.so from --plugin-dir, and its
commands, event and guest action work through QMP. A change to the kit or
the docs' recipe that breaks a third-party Swift plugin fails here.

The example compiles QMPPluginKit (and QMPWire, QAPIRuntime) again in its
own .build: about 30 s cold on this 2-core machine, 3 to 5 s when
nothing changed."""
import os
import shutil
import subprocess
import time

import pytest

from conftest import FleetProcess, REPO_ROOT, missing, required_fleet_binary
from qmp_raw import RawQMP

EXAMPLE = os.path.join(REPO_ROOT, "Examples", "SwiftPlugin")
#: A cold build resolves the checkout's dependencies and compiles the kit.
BUILD_TIMEOUT_SECONDS = 600


@pytest.fixture(scope="module")
def plugin_dir():
    """The example's bin directory after `swift build`; the build's output
    is the failure message when it does not build."""
    if shutil.which("swift") is None:
        missing("swift is not installed")
    start = time.monotonic()
    # SwiftPM's cached build manifest does not notice a file added to a
    # path dependency (a new QMPWire file failed the build as a missing
    # type): plan the build anew each time, a few seconds when nothing changed.
    build = subprocess.run(["swift", "build", "--package-path", EXAMPLE, "--disable-build-manifest-caching"],
                           capture_output=True, text=True, timeout=BUILD_TIMEOUT_SECONDS)
    print(f"Examples/SwiftPlugin: swift build took {time.monotonic() - start:.1f} s")
    assert build.returncode == 0, f"Examples/SwiftPlugin does not build:\n{build.stdout[-4000:]}\n{build.stderr[-4000:]}"
    bin_dir = subprocess.run(["swift", "build", "--package-path", EXAMPLE, "--show-bin-path"],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert os.path.exists(os.path.join(bin_dir, "libqmp-counter.so"))
    return bin_dir


@pytest.fixture
def fleet(plugin_dir):
    config = ("socket-dir: {}\nvms:\n"
              "  - {{name: vm0, plugins: {{counter: {{start: 98, limit: 100}}}}}}\n"
              "  - {{name: plain}}\n")
    server = FleetProcess.on_config(required_fleet_binary(), ["vm0", "plain"], config.format,
                                    extra_args=["--plugin-dir", plugin_dir])
    yield server
    server.close()


def test_counter_plugin_loads_and_answers(fleet):
    with RawQMP(fleet.vm_socket("vm0")) as client:
        client.negotiate()
        names = [c["name"] for c in client.execute("query-commands")["return"]]
        assert {"x-count", "x-query-counter"} <= set(names)
        schema = client.execute("query-qmp-schema")["return"]
        assert any(e["name"] == "COUNTER_WRAPPED" and e["meta-type"] == "event" for e in schema)

        assert client.execute("x-count") == {"return": 99}
        assert client.execute("x-count", {"by": 1}) == {"return": 100}
        # Past the limit: back to 0, and the event goes to the VM's clients.
        assert client.execute("x-count", {"by": 5}) == {"return": 0}
        event = client.wait_event("COUNTER_WRAPPED")
        assert event["data"] == {"wraps": 1}
        assert client.execute("x-query-counter") == {"return": {"value": 0, "wraps": 1}}

        # The host checks the schema before the handler runs, with the texts
        # QEMU 7.2 gives for a uint32 member (migrate-set-parameters'
        # x-checkpoint-delay: "2", -1, 1 and an unknown member).
        assert client.execute("x-count", {"by": "2"})["error"] == {
            "class": "GenericError", "desc": "Parameter 'by' expects uint64"}
        assert client.execute("x-count", {"by": -1})["error"] == {
            "class": "GenericError", "desc": "Parameter 'by' expects uint32_t"}
        assert client.execute("x-count", {"by": 1, "step": 1})["error"] == {
            "class": "GenericError", "desc": "Parameter 'step' is unexpected"}
        assert client.execute("x-query-counter") == {"return": {"value": 0, "wraps": 1}}

        # The guest action, through the control socket.
        with RawQMP(fleet.control) as control:
            control.negotiate()
            reset = {"vm": "vm0", "plugin": "counter", "action": "reset"}
            assert control.execute("guest-action", {**reset, "arguments": {"to": 42}}) == {"return": {}}
            assert control.execute("guest-action", {**reset, "arguments": {"to": 101}})["error"] == {
                "class": "GenericError", "desc": "Parameter 'to' must be in 0...100"}
        assert client.execute("x-query-counter") == {"return": {"value": 42, "wraps": 1}}


def test_a_vm_without_the_plugin_has_none_of_it(fleet):
    with RawQMP(fleet.vm_socket("plain")) as client:
        client.negotiate()
        assert client.execute("x-count")["error"] == {
            "class": "CommandNotFound", "desc": "The command x-count has not been found"}


def test_docs_show_the_example_as_it_builds():
    """docs/plugins.md shows the example's schema.json and plugin source
    verbatim, so what a reader copies is what this file builds and runs."""
    with open(os.path.join(REPO_ROOT, "docs", "plugins.md")) as f:
        docs = f.read()
    for name in ("schema.json", "CounterPlugin.swift"):
        with open(os.path.join(EXAMPLE, "Sources", "CounterPlugin", name)) as f:
            assert f.read() in docs, f"docs/plugins.md does not show Examples/SwiftPlugin's {name} as it is"
