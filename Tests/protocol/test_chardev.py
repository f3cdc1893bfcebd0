"""Chardev plugin through a real client (qemu.qmp) against the built
binary: real ptys, files and sockets; and the same sequence against QEMU 7.2."""
import os
import select
import socket
import tempfile
import time

import pytest

from conftest import QemuProcess
from test_netchar_support import Fleet, assert_same_replies, connect, guest_action, raw, replies_of, run


def file_contents_become(path, expected, timeout=5.0):
    """True once the file holds exactly `expected` (file chardevs write off the loop)."""
    deadline = time.monotonic() + timeout
    while True:
        with open(path, "rb") as f:
            if f.read() == expected:
                return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)


def read_until(fd, needle, timeout=5.0):
    data = b""
    deadline = time.time() + timeout
    while needle not in data:
        remaining = deadline - time.time()
        if remaining <= 0:
            raise TimeoutError(data)
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            chunk = os.read(fd, 4096) if isinstance(fd, int) else fd.recv(4096)
            if not chunk:
                break
            data += chunk
    return data


@pytest.fixture
def fleet():
    f = Fleet("{name: vm0, machine: pc, start-paused: true, plugins: {chardev: {serial: [{id: serial0, backend: pty}]}}}")
    yield f
    f.close()


async def guest(control, action, args):
    return await guest_action(control, "chardev", action, args)


def test_serial_console_shows_login_after_boot(fleet):
    async def scenario():
        qmp = await connect(fleet.socket)
        [serial] = [c for c in (await raw(qmp, "query-chardev"))["return"] if c["label"] == "serial0"]
        assert serial["filename"].startswith("pty:/dev/pts/") and serial["frontend-open"] is True
        fd = os.open(serial["filename"][len("pty:"):], os.O_RDWR | os.O_NOCTTY)
        try:
            assert await raw(qmp, "cont") == {"return": {}}
            assert b"login:" in read_until(fd, b"login:")
        finally:
            os.close(fd)
        await qmp.disconnect()
    run(scenario())


def test_pty_chardev_is_a_real_terminal(fleet):
    async def scenario():
        qmp = await connect(fleet.socket)
        control = await connect(fleet.control)
        reply = await raw(qmp, "chardev-add", {"id": "p0", "backend": {"type": "pty", "data": {}}})
        path = reply["return"]["pty"]
        assert path.startswith("/dev/pts/")
        fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        try:
            assert await guest(control, "console-write", {"chardev": "p0", "text": "hello from the guest"}) == {"return": {}}
            assert b"hello from the guest\r\n" in read_until(fd, b"\r\n")
        finally:
            os.close(fd)
        await qmp.disconnect()
        await control.disconnect()
    run(scenario())


def test_file_chardev_gets_guest_output(fleet):
    out = tempfile.mktemp(prefix="nc-file-", dir="/tmp")

    async def scenario():
        qmp = await connect(fleet.socket)
        control = await connect(fleet.control)
        assert await raw(qmp, "chardev-add", {"id": "f0", "backend": {"type": "file", "data": {"out": out}}}) == {"return": {}}
        await guest(control, "console-write", {"chardev": "f0", "text": "line one\nline two"})
        await qmp.disconnect()
        await control.disconnect()
    try:
        run(scenario())
        # Written by a host worker, off the VM's loop: it lands soon after.
        assert file_contents_become(out, b"line one\r\nline two\r\n")
    finally:
        if os.path.exists(out):
            os.unlink(out)


def test_socket_chardev_serves_a_client(fleet):
    path = f"{fleet.dir}/c.sock"

    async def scenario():
        qmp = await connect(fleet.socket)
        control = await connect(fleet.control)
        backend = {"type": "socket", "data": {"addr": {"type": "unix", "data": {"path": path}}, "server": True, "wait": False}}
        assert await raw(qmp, "chardev-add", {"id": "s0", "backend": backend}) == {"return": {}}
        peer = socket.socket(socket.AF_UNIX)
        peer.connect(path)
        for _ in range(50):
            [info] = [c for c in (await raw(qmp, "query-chardev"))["return"] if c["label"] == "s0"]
            if not info["filename"].startswith("disconnected:"):
                break
            time.sleep(0.02)
        assert info["filename"] == f"unix:{path},server=on"
        await guest(control, "console-write", {"chardev": "s0", "text": "over the socket"})
        assert b"over the socket\r\n" in read_until(peer, b"\r\n")
        peer.close()
        assert await raw(qmp, "chardev-remove", {"id": "s0"}) == {"return": {}}
        assert not os.path.exists(path)
        await qmp.disconnect()
        await control.disconnect()
    run(scenario())


SEQUENCE = [
    ("chardev-add", {"id": "c0", "backend": {"type": "null", "data": {}}}),
    ("chardev-add", {"id": "c0", "backend": {"type": "null", "data": {}}}),
    ("chardev-add", {"id": "c1", "backend": {"type": "console", "data": {}}}),
    ("chardev-add", {"id": "c1", "backend": {"type": "null"}}),
    ("chardev-add", {"id": "r0", "backend": {"type": "ringbuf", "data": {"size": 8}}}),
    ("chardev-add", {"id": "r1", "backend": {"type": "ringbuf", "data": {"size": 7}}}),
    ("ringbuf-write", {"device": "r0", "data": "hello world"}),
    ("ringbuf-read", {"device": "r0", "size": 100}),
    ("ringbuf-write", {"device": "r0", "data": "aGk=", "format": "base64"}),
    ("ringbuf-read", {"device": "r0", "size": 1}),
    ("ringbuf-read", {"device": "r0", "size": 10, "format": "base64"}),
    ("ringbuf-write", {"device": "r0", "data": "!!", "format": "base64"}),
    ("ringbuf-read", {"device": "r0", "size": 0}),
    ("ringbuf-read", {"device": "c0", "size": 1}),
    ("ringbuf-read", {"device": "nope", "size": 1}),
    ("ringbuf-read", {"device": "r0", "size": 1, "format": "bogus"}),
    ("chardev-remove", {"id": "nope"}),
    ("chardev-change", {"id": "nope", "backend": {"type": "null", "data": {}}}),
    ("chardev-remove", {"id": "c0"}),
]


def test_replies_match_qemu():
    ours = replies_of(Fleet("{name: vm0, machine: pc, plugins: {chardev: {serial: []}}}"), SEQUENCE)
    theirs = replies_of(QemuProcess("pc", paused=True), SEQUENCE)
    assert_same_replies(SEQUENCE, theirs, ours)
