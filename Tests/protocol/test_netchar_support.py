"""Helpers for the net and chardev protocol tests: start the built qmpfleet
binary (or real QEMU 7.2) on a private socket directory, and talk QMP to it
through qemu.qmp. Self-contained, so these tests run with or without the
shared conftest fixtures."""
import asyncio
import glob
import os
import shutil
import subprocess
import tempfile
import time

from qemu.qmp import QMPClient, Message

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def fleet_binary():
    env = os.environ.get("QMPFLEET_BIN")
    if env:
        return env
    found = glob.glob(os.path.join(ROOT, ".build*", "debug", "qmpfleet")) + glob.glob(os.path.join(ROOT, ".build*", "release", "qmpfleet"))
    if not found:
        raise RuntimeError("qmpfleet is not built (set QMPFLEET_BIN)")
    return max(found, key=os.path.getmtime)


def wait_for(path, timeout=10.0):
    from conftest import listening_unix_paths
    deadline = time.time() + timeout
    while not (os.path.exists(path) and path in listening_unix_paths()):
        if time.time() > deadline:
            raise TimeoutError(path)
        time.sleep(0.02)


class Fleet:
    """qmpfleet serving one VM, `vm0`, with the given YAML VM entry."""

    def __init__(self, vm_yaml):
        self.dir = tempfile.mkdtemp(prefix="nc-", dir="/tmp")
        config = os.path.join(self.dir, "fleet.yaml")
        with open(config, "w") as f:
            f.write(f"socket-dir: {self.dir}/s\nvms:\n  - {vm_yaml}\n")
        binary = fleet_binary()
        self.proc = subprocess.Popen([binary, "serve", "--config", config, "--socket-dir", f"{self.dir}/s",
                                      "--plugin-dir", os.path.dirname(binary)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.socket = f"{self.dir}/s/vm0.qmp"
        self.control = f"{self.dir}/s/fleet.qmp"
        wait_for(self.socket)
        wait_for(self.control)

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


class Qemu:
    """Real QEMU 7.2, `-machine pc -S`, for comparisons."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="ncq-", dir="/tmp")
        self.socket = f"{self.dir}/q.sock"
        self.proc = subprocess.Popen(["qemu-system-x86_64", "-machine", "pc", "-accel", "tcg", "-S", "-nodefaults",
                                      "-display", "none", "-qmp", f"unix:{self.socket},server=on,wait=off"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self.socket)

    def close(self):
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


async def connect(path):
    client = QMPClient("test")
    await client.connect(path)
    return client


async def raw(client, command, arguments=None):
    """The reply without its id: {"return": ...} or {"error": ...}."""
    msg = {"execute": command}
    if arguments is not None:
        msg["arguments"] = arguments
    reply = dict(await client._raw(Message(msg), assign_id=True))
    reply.pop("id", None)
    return reply


async def take_events(client, name, wait=0.3):
    """Every event called `name` that arrives within `wait` seconds."""
    found = []
    deadline = asyncio.get_running_loop().time() + wait
    while True:
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            return found
        try:
            event = await asyncio.wait_for(client.events.get(), remaining)
        except asyncio.TimeoutError:
            return found
        if event["event"] == name:
            found.append(event)


def comparable(reply):
    """Replies compared by shape: errors by class and text, returns whole."""
    if "error" in reply:
        return ("error", reply["error"]["class"], reply["error"]["desc"])
    return ("return", reply["return"])


def run(coro):
    return asyncio.run(coro)
