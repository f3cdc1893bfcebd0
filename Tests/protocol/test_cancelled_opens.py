"""An open a plugin made off the loop for a request that timed out
meanwhile: the host closes the descriptor and the plugin's `done` never
runs (QMPPluginKit's `openFile(…, for:cancelled:then:)`). What the plugin
marked busy for the open must be cleared all the same, or the VM refuses
that kind of command for the rest of its life."""
import os
import time

import pytest

from conftest import FleetProcess, required_fleet_binary
# Fixtures and helpers of the slow-filesystem tests.
from test_adversarial_files import Client, files, mount_slow_fuse  # noqa: F401

REPLY_TIMEOUT_MS = 300
SLOW_OPEN_SECONDS = 1.0


@pytest.fixture
def slow_open_fuse(files):  # noqa: F811
    """allowed/slowopen: every open and create waits a second."""
    yield from mount_slow_fuse(files, "slowopen", 0.0, SLOW_OPEN_SECONDS)


@pytest.fixture
def fleet(files):  # noqa: F811
    def config(socket_dir):
        return (f"socket-dir: {socket_dir}\n"
                f"loops: 1\n"
                f"allowed-file-dirs: [{files['allowed']}]\n"
                f"limits: {{plugin-reply-timeout-ms: {REPLY_TIMEOUT_MS}}}\n"
                f"vms:\n"
                f"  - {{name: vm, machine: pc-i440fx-7.2, memory: {{size: 128M}}, plugins: {{dump: {{}}, chardev: {{}}}}}}\n")
    process = FleetProcess.on_config(required_fleet_binary(), ["vm"], config)
    yield process
    process.kill()
    process.cleanup()


def test_a_dump_whose_open_timed_out_does_not_stay_in_process(fleet, files, slow_open_fuse):
    client = Client(fleet.vm_socket("vm"))
    reply = client.execute("dump-guest-memory", {"paging": False, "protocol": f"file:{slow_open_fuse}/core",
                                                 "begin": 0, "length": 65536})
    assert reply == {"error": {"class": "GenericError", "desc": "Plugin 'dump' did not answer 'dump-guest-memory' in time"}}, reply
    time.sleep(SLOW_OPEN_SECONDS + 0.5)  # the open ends, for nobody
    quick = os.path.join(files["allowed"], "core")
    reply = client.execute("dump-guest-memory", {"paging": False, "protocol": f"file:{quick}", "begin": 0, "length": 65536})
    assert reply == {"return": {}}, reply
    client.close()


def open_descriptors_to(pid, path):
    """The fleet's descriptors whose file is `path`."""
    found = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == path:
                found.append(fd)
        except OSError:
            pass
    return found


def test_a_chardev_whose_open_timed_out_frees_its_id_and_files(fleet, files, slow_open_fuse):
    """chardev-add with a log file (opened at once) and an `out` on the slow
    mount: the request times out while `out` opens. The id must not stay
    taken ('already exists' for the VM's life) and the log's descriptor
    must not stay open in the fleet."""
    client = Client(fleet.vm_socket("vm"))
    log = os.path.join(files["allowed"], "c0.log")
    backend = {"type": "file", "data": {"out": f"{slow_open_fuse}/out", "logfile": log}}
    reply = client.execute("chardev-add", {"id": "c0", "backend": backend})
    assert reply == {"error": {"class": "GenericError", "desc": "Plugin 'chardev' did not answer 'chardev-add' in time"}}, reply
    time.sleep(SLOW_OPEN_SECONDS + 0.5)  # the open ends, for nobody
    assert open_descriptors_to(fleet.process.pid, log) == []
    quick = {"type": "file", "data": {"out": os.path.join(files["allowed"], "c0.out")}}
    reply = client.execute("chardev-add", {"id": "c0", "backend": quick})
    assert reply == {"return": {}}, reply
    client.close()
