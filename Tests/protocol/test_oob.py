"""Issue 18: out-of-band execution as QEMU 7.2 does it, side by side with
real QEMU (`qemu-system-x86_64 -machine pc -nodefaults`).

- `exec-oob` without the `oob` capability is an unexpected member;
- with it, only commands the schema marks `allow-oob` run out of band, the
  rest get "The command X does not support OOB", and the schema marks them;
- an out-of-band command overtakes the in-band ones queued before it;
- with OOB on, at most 8 in-band requests wait behind the one running; at
  that count QEMU stops reading from the client until one completes, so an
  `exec-oob` sent after the 8th waits too (after the 7th it does not), and
  nothing is dropped;
- `query-yank` on a fresh VM lists the monitor's chardev, `yank` of an
  unknown instance is DeviceNotFound "Instance not found".

The in-band command that stays in flight: on QEMU, `dump-guest-memory` to a
FIFO nobody has opened (QEMU's main loop waits in open() until the test
opens it); on the fleet, the `x-hold` command of a small test plugin built
here, answered when another client sends `x-release`.
"""
import json
import os
import shutil
import subprocess
import threading
import time

import pytest

import conftest
from qmp_raw import RawQMP

# Bounds a latency (see pytest.ini: serial): runs alone, not beside other files.
pytestmark = pytest.mark.serial

#: QEMU 7.2's QMP_REQ_QUEUE_LEN_MAX.
QUEUE_LENGTH = 8
#: How long "not answered" is watched for.
QUIET_SECONDS = 1.0

HOLDER_SOURCE = r"""
#include <qmp_plugin.h>
#include <string.h>
static const qmp_host_api *host;
static const char schema[] = "[{\"command\": \"x-hold\"}, {\"command\": \"x-release\"}]";
static qmp_request held; static int holding;
static void hold(void *i, qmp_request r, const char *a, size_t n, void *u) { held = r; holding = 1; }
static void release(void *i, qmp_request r, const char *a, size_t n, void *u) {
    if (holding) { holding = 0; host->reply(held, "{}", 2); } host->reply(r, "{}", 2); }
static int init(const qmp_host_api *api, qmp_plugin_ctx *ctx, char *e, size_t el) {
    host = api;
    api->declare_schema(ctx, schema, strlen(schema));
    api->bind_command(ctx, "x-hold", hold, 0); api->bind_command(ctx, "x-release", release, 0);
    return 0;
}
static int create(qmp_vm *vm, const char *c, size_t n, void **inst, char *e, size_t el) { *inst = vm; return 0; }
static void destroy(void *i) {}
static const qmp_plugin_descriptor d = { QMP_PLUGIN_ABI_VERSION, sizeof(qmp_plugin_descriptor), "holder", "0.1", init, create, destroy, 0, 0 };
__attribute__((visibility("default"))) const qmp_plugin_descriptor *qmp_plugin_entry(void) { return &d; }
"""


class QemuHold:
    """An in-band command QEMU cannot finish until release(): a dump into a FIFO."""

    def __init__(self, vm):
        self.fifo = os.path.join(vm.dir, "hold.fifo")
        os.mkfifo(self.fifo)
        self.reader = None

    def request(self, id):
        return {"execute": "dump-guest-memory", "arguments": {"paging": False, "protocol": "file:" + self.fifo}, "id": id}

    def release(self):
        def drain():
            with open(self.fifo, "rb") as f:
                while f.read(1 << 20):
                    pass
        self.reader = threading.Thread(target=drain, daemon=True)
        self.reader.start()


class FleetHold:
    """The holder plugin's x-hold, answered when another client sends x-release."""

    def __init__(self, socket):
        self.socket = socket

    def request(self, id):
        return {"execute": "x-hold", "id": id}

    def release(self):
        with RawQMP(self.socket) as other:
            other.negotiate()
            assert other.execute("x-release") == {"return": {}}


@pytest.fixture
def holder_dir():
    cc = shutil.which("cc")
    if cc is None:
        conftest.missing("no C compiler for the test plugin")
    directory = conftest.short_tempdir("qoob-")
    source = os.path.join(directory, "holder.c")
    with open(source, "w") as f:
        f.write(HOLDER_SOURCE)
    include = os.path.join(conftest.REPO_ROOT, "Sources", "QMPPluginABI", "include")
    subprocess.run([cc, "-shared", "-fPIC", "-fvisibility=hidden", "-I", include, source,
                    "-o", os.path.join(directory, "libqmp-holder.so")], check=True)
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(params=["qemu", "fleet"])
def held_vm(request, holder_dir):
    """(socket path, hold) on real QEMU or on the fleet."""
    if request.param == "qemu":
        vm = request.getfixturevalue("qemu_vm")("pc", paused=True)
        return vm.socket, QemuHold(vm)
    binary = conftest.required_fleet_binary()
    template = dict(conftest.PC_TEMPLATE, plugins={"holder": {}})

    def config(socket_dir):
        return (conftest.fleet_yaml(socket_dir, {"pc": template}, [{"name": "vm0", "template": "pc"}],
                                    conftest.FLEET_QEMU_VERSION)
                + f"plugin-dirs: [{holder_dir}]\n")

    fleet = conftest.FleetProcess.on_config(binary, ["vm0"], config)
    request.addfinalizer(fleet.close)
    return fleet.vm_socket("vm0"), FleetHold(fleet.vm_socket("vm0"))


def oob_client(path):
    client = RawQMP(path)
    client.greeting()
    assert client.execute("qmp_capabilities", {"enable": ["oob"]}) == {"return": {}}
    return client


def replies_within(client, seconds):
    """Ids of the replies that arrive within `seconds` (events skipped)."""
    ids = []
    deadline = time.monotonic() + seconds
    while True:
        try:
            message = client.read_message(max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            return ids
        if "event" not in message:
            ids.append(message.get("id"))


def replies_until(client, last_id, timeout=30):
    ids = []
    deadline = time.monotonic() + timeout
    while not ids or ids[-1] != last_id:
        message = client.read_message(max(0.1, deadline - time.monotonic()))
        if "event" not in message:
            ids.append(message.get("id"))
    return ids


def test_exec_oob_without_the_capability(backend, raw_client):
    client = raw_client(backend.vm())
    client.negotiate()
    client.send({"exec-oob": "query-status", "id": "o1"})
    assert client.read_reply() == {"id": "o1", "error": {"class": "GenericError",
                                                        "desc": "QMP input member 'exec-oob' is unexpected"}}
    assert "return" in client.execute("query-status")


def test_only_allow_oob_commands_run_out_of_band(backend):
    with oob_client(backend.vm()) as client:
        for command, error in [
            ("query-status", {"class": "GenericError", "desc": "The command query-status does not support OOB"}),
            ("qmp_capabilities", {"class": "GenericError", "desc": "The command qmp_capabilities does not support OOB"}),
            ("no-such-command", {"class": "CommandNotFound", "desc": "The command no-such-command has not been found"}),
        ]:
            client.send({"exec-oob": command, "id": command})
            assert client.read_reply() == {"id": command, "error": error}
        client.send({"exec-oob": "query-yank", "id": "y"})
        assert client.read_reply() == {"return": [{"type": "chardev", "id": "compat_monitor0"}], "id": "y"}
        client.send({"exec-oob": "query-yank", "execute": "query-yank", "id": "both"})
        assert client.read_reply()["error"]["desc"] == "QMP input member 'execute' clashes with 'exec-oob'"


def test_schema_marks_allow_oob(backend, raw_client):
    client = raw_client(backend.vm())
    client.negotiate()
    schema = client.execute("query-qmp-schema")["return"]
    marked = {entry["name"] for entry in schema if entry.get("allow-oob")}
    commands = {entry["name"] for entry in schema if entry["meta-type"] == "command"}
    # QEMU 7.2 marks exactly these; a VM marks those of them it has (the
    # migration pair comes with the migration plugin).
    qemu_marked = {"migrate-recover", "migrate-pause", "yank", "query-yank"}
    assert marked == qemu_marked & commands
    assert {"yank", "query-yank"} <= marked


def test_yank(backend, raw_client):
    client = raw_client(backend.vm())
    client.negotiate()
    assert client.execute("query-yank") == {"return": [{"type": "chardev", "id": "compat_monitor0"}]}
    not_found = {"error": {"class": "DeviceNotFound", "desc": "Instance not found"}}
    for instance in ({"type": "chardev", "id": "nope"}, {"type": "block-node", "node-name": "nope"}, {"type": "migration"}):
        assert client.execute("yank", {"instances": [instance]}) == not_found
    # One unknown instance and nothing is yanked.
    assert client.execute("yank", {"instances": [{"type": "chardev", "id": "compat_monitor0"}, {"type": "migration"}]}) == not_found
    assert client.execute("yank", {"instances": []}) == {"return": {}}


def test_yank_of_the_monitor_closes_its_client(backend, raw_client):
    path = backend.vm()
    client = oob_client(path)
    client.send({"exec-oob": "yank", "id": 1, "arguments": {"instances": [{"type": "chardev", "id": "compat_monitor0"}]}})
    with pytest.raises(ConnectionError):
        client.read_reply()
    client.close()
    again = raw_client(path)
    again.negotiate()
    assert "return" in again.execute("query-status")


def test_oob_overtakes_queued_in_band_commands(held_vm):
    path, hold = held_vm
    with oob_client(path) as client:
        client.send(hold.request("hold"))
        time.sleep(0.3)
        client.send(json.dumps({"execute": "query-status", "id": 1}) + json.dumps({"exec-oob": "query-yank", "id": "oob"}))
        assert replies_within(client, QUIET_SECONDS) == ["oob"]
        hold.release()
        assert replies_until(client, 1) == ["hold", 1]


@pytest.mark.parametrize("queued", [QUEUE_LENGTH - 1, QUEUE_LENGTH])
def test_full_in_band_queue_stops_reading(held_vm, queued):
    path, hold = held_vm
    with oob_client(path) as client:
        client.send(hold.request("hold"))
        time.sleep(0.3)
        burst = "".join(json.dumps({"execute": "query-status", "id": i}) for i in range(1, queued + 1))
        client.send(burst + json.dumps({"exec-oob": "query-yank", "id": "oob"})
                    + json.dumps({"execute": "query-status", "id": "last"}))
        early = replies_within(client, QUIET_SECONDS)
        assert early == (["oob"] if queued < QUEUE_LENGTH else [])
        hold.release()
        rest = replies_until(client, "last")
        in_band = [i for i in rest if i != "oob"]
        assert in_band == ["hold"] + list(range(1, queued + 1)) + ["last"], "nothing dropped, in order"
        assert (early + rest).count("oob") == 1
