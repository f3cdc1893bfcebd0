"""Proxy mode: many clients on one real QEMU 7.2 monitor, through the fleet."""
import asyncio
import json
import os
import signal
import socket
import subprocess
import tempfile
import time

import pytest
from qemu.qmp import QMPClient

from conftest import required_fleet_binary, wait_for_paths


class RawClient:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(10)
        self.sock.connect(path)
        self.file = self.sock.makefile("rwb")
        self.greeting = self.file.readline()

    def send(self, obj):
        self.file.write(json.dumps(obj).encode() + b"\n")
        self.file.flush()

    def line(self):
        return self.file.readline()

    def reply(self):
        while True:
            msg = json.loads(self.line())
            if "event" not in msg:
                return msg


@pytest.fixture
def proxied():
    d = tempfile.mkdtemp(prefix="px-", dir="/tmp")
    qsock = f"{d}/qemu.sock"
    qemu = subprocess.Popen(["qemu-system-x86_64", "-machine", "none", "-nodefaults", "-display", "none",
                             "-qmp", f"unix:{qsock},server=on,wait=off"], stderr=subprocess.DEVNULL)
    wait_for_paths([qsock], qemu)
    cfg = f"{d}/fleet.yaml"
    with open(cfg, "w") as f:
        f.write(f"socket-dir: {d}/s\nvms:\n  - {{name: real, backend: proxy, upstream: {qsock}}}\n"
                f"  - {{name: ro, backend: proxy, upstream: {d}/qemu2.sock, launch: [qemu-system-x86_64, -machine, none, -nodefaults, -display, none], read-only: true}}\n")
    fleet = subprocess.Popen([required_fleet_binary(), "serve", "--config", cfg], stderr=subprocess.DEVNULL)
    wait_for_paths([f"{d}/s/real.qmp", f"{d}/s/ro.qmp"], fleet)
    yield d, qemu, fleet
    for p in (qemu, fleet):
        if p.poll() is None:
            p.terminate()
            p.wait(10)
    assert fleet.returncode == 0


def test_greeting_is_qemus_own(proxied):
    d, _, _ = proxied
    direct = socket.socket(socket.AF_UNIX)
    c = RawClient(f"{d}/s/real.qmp")
    assert b'"package": "Debian' in c.greeting and c.greeting.endswith(b"\r\n")


def test_three_clients_overlapping_ids_and_shared_events(proxied):
    d, qemu, _ = proxied
    clients = [RawClient(f"{d}/s/real.qmp") for _ in range(3)]
    for c in clients:
        c.send({"execute": "qmp_capabilities"})
        assert c.reply() == {"return": {}}
    # The same ids from every client: each gets exactly its own replies.
    for round_ in range(5):
        for i, c in enumerate(clients):
            c.send({"execute": "query-status", "id": round_})
            c.send({"execute": "human-monitor-command", "arguments": {"command-line": "info name"}, "id": f"c{i}"})
        for i, c in enumerate(clients):
            assert c.reply()["id"] == round_
            assert c.reply()["id"] == f"c{i}"
    clients[0].send({"execute": "stop", "id": "s"})
    clients[0].send({"execute": "cont", "id": "c"})
    for c in clients:
        seen = []
        while len(seen) < 2:
            msg = json.loads(c.line())
            if "event" in msg:
                seen.append(msg["event"])
        assert seen == ["STOP", "RESUME"]
    # Killing QEMU closes all three cleanly.
    qemu.kill()
    qemu.wait()
    for c in clients:
        rest = c.sock.recv(65536)
        while rest:
            rest = c.sock.recv(65536)


def test_qemu_qmp_library_through_the_proxy(proxied):
    d, _, _ = proxied

    async def run():
        qmps = [QMPClient(f"c{i}") for i in range(3)]
        for q in qmps:
            await q.connect(f"{d}/s/real.qmp")
        statuses = [await q.execute("query-status") for q in qmps]
        for q in qmps:
            await q.disconnect()
        return statuses

    statuses = asyncio.run(run())
    assert all(s["status"] == "running" for s in statuses)


def test_read_only_policy_and_launch(proxied):
    d, _, _ = proxied
    c = RawClient(f"{d}/s/ro.qmp")
    c.send({"execute": "qmp_capabilities"})
    assert c.reply() == {"return": {}}
    c.send({"execute": "query-status", "id": 1})
    assert c.reply()["return"]["running"] is True
    for cmd in ("stop", "quit"):
        c.send({"execute": cmd, "id": 2})
        r = c.reply()
        assert r["error"]["class"] == "GenericError"
        assert "read-only" in r["error"]["desc"]
