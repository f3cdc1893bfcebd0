"""Helpers for the plugin protocol tests (net, chardev and the others): the
built qmpfleet serving one VM, talked to through qemu.qmp, and the same
command sequence replayed on it and on real QEMU 7.2. The processes are
conftest's, with its readiness, exit and log checks."""
import asyncio

from qemu.qmp import QMPClient, Message

import qmp_async
from conftest import FleetProcess, QemuProcess, required_fleet_binary


class Fleet(FleetProcess):
    """qmpfleet serving one VM, `vm0`, with the given YAML VM entry; `close`
    fails the test when it does not exit 0 or leaves a socket behind."""

    def __init__(self, vm_yaml, prefix=()):
        self._serve(required_fleet_binary(), ["vm0"],
                    lambda socket_dir: f"socket-dir: {socket_dir}\nvms:\n  - {vm_yaml}\n", prefix=prefix)
        self.socket = self.vm_socket("vm0")


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
    """Every event called `name` that arrives within `wait` seconds (the
    others that arrive are dropped)."""
    return [event for event in await qmp_async.no_event(client, wait) if event["event"] == name]


async def guest_action(control, plugin, action, arguments=None, vm="vm0"):
    """The control plane's guest-action (the simulated guest of `vm` acting
    on `plugin`'s devices), sent on the control client `control`; the reply
    as raw() gives it."""
    return await raw(control, "guest-action", {"vm": vm, "plugin": plugin, "action": action,
                                               "arguments": arguments if arguments is not None else {}})


def comparable(reply):
    """Replies compared by shape: errors by class and text, returns whole."""
    if "error" in reply:
        return ("error", reply["error"]["class"], reply["error"]["desc"])
    return ("return", reply["return"])


def run(coro):
    return asyncio.run(coro)


async def replies(path, sequence):
    """comparable() of the reply to each (command, arguments) of `sequence`,
    sent in order on one new connection to `path`."""
    return (await replies_then(path, sequence))[0]


async def replies_then(path, sequence, *queries):
    """replies() of `sequence`, then the `return` of each command in
    `queries` (no arguments) sent after it on the same connection."""
    client = await connect(path)
    out = [comparable(await raw(client, command, arguments)) for command, arguments in sequence]
    after = [(await raw(client, query))["return"] for query in queries]
    await client.disconnect()
    return out, after


def replies_of(server, sequence):
    """replies() from a started server (Fleet or conftest.QemuProcess), which
    is closed afterwards whatever happens."""
    try:
        return run(replies(server.socket, sequence))
    finally:
        server.close()


def assert_same_replies(sequence, expected, got):
    """Each reply in `got` equals the one in `expected`; a mismatch names its command."""
    for (command, arguments), want, have in zip(sequence, expected, got, strict=True):
        assert have == want, (command, arguments, have, want)


def compare_with_qemu(vm_yaml, steps, collect):
    """Runs `collect(path, steps)` (a coroutine giving (replies, *more)) on
    QEMU 7.2 (`pc`, paused) and on a fleet VM `vm_yaml`; each reply must
    equal QEMU's, a mismatch naming its command, and so must the rest."""
    server = QemuProcess("pc", paused=True)
    try:
        theirs = run(collect(server.socket, steps))
    finally:
        server.close()
    fleet = Fleet(vm_yaml)
    try:
        ours = run(collect(fleet.socket, steps))
    finally:
        fleet.close()
    assert_same_replies(steps, theirs[0], ours[0])
    assert ours[1:] == theirs[1:]
