"""The NBD server of `nbd-server-start` serves real NBD clients, as QEMU
7.2's does: `qemu-img info`, `qemu-nbd --list` and `qemu-io` against a
simulated pc's export and against QEMU's (`-machine pc -nodefaults -S`, a
null-co node of 64 MiB). Compared: the export's size, what a read returns
(zeros), a write refused on a read-only export and taken by a writable one,
`nbd-server-stop` removing the socket, and an export that is not there.
"""
import json
import os
import shutil
import socket as socketlib
import subprocess
import tempfile

import pytest

from conftest import FleetProcess, QemuProcess, QEMU_PROGRAM, missing, required_fleet_binary, short_tempdir
from qmp_raw import RawQMP
from test_command_replies import BARE_PC

SIZE = 64 << 20


def tool(*args):
    result = subprocess.run(list(args), capture_output=True, text=True, timeout=30)
    return result.returncode, result.stdout, result.stderr


def against_qemu_and_fleet(steps):
    """`steps(qmp_path, directory)` against a paused QEMU pc and a simulated
    pc, each with a short directory of its own: (QEMU's result, the fleet's)."""
    binary = required_fleet_binary()
    qemu_dir, fleet_dir = short_tempdir("qn-"), short_tempdir("fn-")
    qemu = QemuProcess("pc", paused=True)
    fleet = FleetProcess(binary, {"pc": BARE_PC}, [{"name": "vm0", "template": "pc"}])
    try:
        return steps(qemu.socket, qemu_dir), steps(fleet.vm_socket("vm0"), fleet_dir)
    finally:
        qemu.close()
        fleet.close()
        shutil.rmtree(qemu_dir, ignore_errors=True)
        shutil.rmtree(fleet_dir, ignore_errors=True)


def exercise(qmp_path, directory):
    socket = os.path.join(directory, "nbd.sock")
    url = f"nbd+unix:///{{}}?socket={socket}"
    client = RawQMP(qmp_path)
    client.negotiate()
    seen = {}
    assert client.execute("blockdev-add", {"driver": "null-co", "node-name": "null0", "size": SIZE}) == {"return": {}}
    assert client.execute("nbd-server-start", {"addr": {"type": "unix", "data": {"path": socket}}}) == {"return": {}}
    assert client.execute("block-export-add", {"type": "nbd", "id": "ro", "node-name": "null0"}) == {"return": {}}
    assert client.execute("block-export-add", {"type": "nbd", "id": "rw", "node-name": "null0", "name": "rw",
                                               "writable": True}) == {"return": {}}
    code, out, _ = tool("qemu-img", "info", "--output=json", url.format("null0"))
    seen["info"] = (code, json.loads(out)["virtual-size"] if code == 0 else None)
    code, out, _ = tool("qemu-nbd", "--list", "-k", socket)
    seen["list"] = (code, sorted(line.split("'")[1] for line in out.splitlines() if line.startswith(" export:")))
    code, out, _ = tool("qemu-io", "-r", "-f", "raw", "-c", "read -v 4096 16", url.format("null0"))
    seen["read"] = (code, out.splitlines()[0] if code == 0 else None)
    code, _, err = tool("qemu-io", "-f", "raw", "-c", "write 0 512", url.format("null0"))
    seen["write read-only"] = (code, "Permission denied" in err)
    code, out, _ = tool("qemu-io", "-f", "raw", "-c", "write 0 512", url.format("rw"))
    seen["write writable"] = (code, "wrote 512/512 bytes" in out)
    code, _, err = tool("qemu-img", "info", url.format("nope"))
    seen["missing export"] = (code, "nope" in err)
    seen["stop"] = client.execute("nbd-server-stop")
    seen["socket left"] = os.path.exists(socket)
    client.close()
    return seen


def test_nbd_clients_see_exports_as_from_qemu_7_2():
    for program in (QEMU_PROGRAM, "qemu-img", "qemu-io", "qemu-nbd"):
        if shutil.which(program) is None:
            missing(f"{program} is not installed (scripts/install-deps)")
    want, have = against_qemu_and_fleet(exercise)
    assert want["info"] == (0, SIZE)
    assert have == want


def test_nbd_server_stays_inside_the_allowed_directories():
    binary = required_fleet_binary()
    fleet = FleetProcess(binary, {"pc": BARE_PC}, [{"name": "vm0", "template": "pc"}])
    try:
        client = RawQMP(fleet.vm_socket("vm0"))
        client.negotiate()
        path = os.path.join(fleet.socket_dir, "nbd.sock")
        reply = client.execute("nbd-server-start", {"addr": {"type": "unix", "data": {"path": path}}})
        assert reply["error"]["desc"].startswith(f"Failed to bind socket to {path}: ")
        assert not os.path.exists(path)
        # A live socket (the VM's own QMP socket) is never replaced.
        reply = client.execute("nbd-server-start", {"addr": {"type": "unix", "data": {"path": fleet.vm_socket("vm0")}}})
        assert "error" in reply and os.path.exists(fleet.vm_socket("vm0"))
        client.close()
    finally:
        fleet.close()


def stale_socket(path):
    """A socket file nobody listens on any more (its server closed without unlinking)."""
    listener = socketlib.socket(socketlib.AF_UNIX, socketlib.SOCK_STREAM)
    listener.bind(path)
    listener.close()


def start_on_stale_socket(qmp_path, directory):
    path = os.path.join(directory, "stale.sock")
    stale_socket(path)
    client = RawQMP(qmp_path)
    client.negotiate()
    seen = {"start": client.execute("nbd-server-start", {"addr": {"type": "unix", "data": {"path": path}}})}
    code, _, _ = tool("qemu-nbd", "--list", "-k", path)
    seen["listens"] = code == 0
    seen["stop"] = client.execute("nbd-server-stop")
    seen["socket left"] = os.path.exists(path)
    client.close()
    return seen


def test_nbd_server_replaces_a_stale_socket_as_qemu_7_2():
    """QEMU unlinks what is at the path before it binds; the fleet does so
    only for a stale socket (QMPPluginKit's ClientSocketPath, as for a
    chardev's), which is what QEMU's bind then takes over."""
    for program in (QEMU_PROGRAM, "qemu-nbd"):
        if shutil.which(program) is None:
            missing(f"{program} is not installed (scripts/install-deps)")
    want, have = against_qemu_and_fleet(start_on_stale_socket)
    assert want == {"start": {"return": {}}, "listens": True, "stop": {"return": {}}, "socket left": False}
    assert have == want


def test_block_exports_per_vm_are_bounded():
    """Exports of one node under different ids cost the VM memory and
    nothing it runs out of: past the block plugin's 256 the next is refused
    (QEMU 7.2 has no bound), and removing one makes room."""
    binary = required_fleet_binary()
    directory = short_tempdir("fe-")
    fleet = FleetProcess(binary, {"pc": BARE_PC}, [{"name": "vm0", "template": "pc"}])
    try:
        client = RawQMP(fleet.vm_socket("vm0"))
        client.negotiate()
        assert client.execute("blockdev-add", {"driver": "null-co", "node-name": "null0"}) == {"return": {}}
        socket = os.path.join(directory, "nbd.sock")
        assert client.execute("nbd-server-start", {"addr": {"type": "unix", "data": {"path": socket}}}) == {"return": {}}
        for n in range(256):
            assert client.execute("block-export-add", {"type": "nbd", "id": f"e{n}", "node-name": "null0", "name": f"e{n}"}) == {"return": {}}
        refused = client.execute("block-export-add", {"type": "nbd", "id": "extra", "node-name": "null0", "name": "extra"})
        assert refused["error"] == {"class": "GenericError", "desc": "The VM holds 256 block exports already (the block plugin's limit)"}
        assert client.execute("block-export-add", {"type": "nbd", "id": "e3", "node-name": "null0"})["error"]["desc"] \
            == "Block export id 'e3' is already in use"
        assert client.execute("block-export-del", {"id": "e0"}) == {"return": {}}
        assert client.execute("block-export-add", {"type": "nbd", "id": "extra", "node-name": "null0", "name": "extra"}) == {"return": {}}
        assert len(client.execute("query-block-exports")["return"]) == 256
        client.close()
    finally:
        fleet.close()
        shutil.rmtree(directory, ignore_errors=True)


def test_nbd_server_binds_a_long_socket_name_in_its_directory():
    """A path of 107 bytes (the most `sun_path` takes) whose name is too
    long to reach through `/proc/self/fd/N/`: bound in the directory that
    was checked (ClientSocketPath's private directory and link, not the
    plain path, which a swapped symlink could lead elsewhere), served, and
    removed by nbd-server-stop, with nothing else left in the directory."""
    if shutil.which("qemu-nbd") is None:
        missing("qemu-nbd is not installed (scripts/install-deps)")
    binary = required_fleet_binary()
    directory = tempfile.mkdtemp(prefix="", dir="/tmp")  # /tmp/XXXXXXXX: 13 bytes
    path = os.path.join(directory, "n" * (107 - len(directory) - 1))
    assert len(path) == 107 and len(f"/proc/self/fd/1/{os.path.basename(path)}") >= 108
    fleet = FleetProcess(binary, {"pc": BARE_PC}, [{"name": "vm0", "template": "pc"}])
    try:
        client = RawQMP(fleet.vm_socket("vm0"))
        client.negotiate()
        assert client.execute("blockdev-add", {"driver": "null-co", "node-name": "null0"}) == {"return": {}}
        assert client.execute("nbd-server-start", {"addr": {"type": "unix", "data": {"path": path}}}) == {"return": {}}
        assert client.execute("block-export-add", {"type": "nbd", "id": "e0", "node-name": "null0"}) == {"return": {}}
        assert os.listdir(directory) == [os.path.basename(path)]
        code, out, _ = tool("qemu-nbd", "--list", "-k", path)
        assert code == 0 and "export: 'null0'" in out
        assert client.execute("nbd-server-stop") == {"return": {}}
        assert os.listdir(directory) == []
        client.close()
    finally:
        fleet.close()
        shutil.rmtree(directory, ignore_errors=True)
