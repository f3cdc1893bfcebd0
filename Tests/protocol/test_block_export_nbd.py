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
