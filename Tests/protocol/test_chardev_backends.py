"""The chardev backends QEMU 7.2 has beyond the first twelve (udp, pipe,
serial, parallel, mux, dbus, spicevmc, spiceport, braille): the same
sequence sent to the built qmpfleet and to real QEMU 7.2, every reply
compared. Paths lie in one scratch directory under /tmp (the fleet's
default allowed-file-dirs) that both use."""
import os
import shutil
import socket
import tempfile
import time

from test_netchar_support import Fleet, compare_with_qemu, replies_of, replies_then


def chardev(id, kind, data=None):
    return ("chardev-add", {"id": id, "backend": {"type": kind, "data": data or {}}})


def inet(host, port, **extra):
    return {"type": "inet", "data": {"host": host, "port": port, **extra}}


def sequence(scratch, port):
    return [
        ("query-chardev-backends", None),
        chardev("u1", "udp", {"remote": inet("127.0.0.1", port)}),
        chardev("u2", "udp", {"remote": {"type": "unix", "data": {"path": f"{scratch}/u.sock"}}}),
        chardev("u3", "udp", {"remote": inet("127.0.0.1", "")}),
        chardev("u4", "udp", {"remote": inet("127.0.0.1", port, ipv4=False, ipv6=False)}),
        chardev("u5", "udp", {"remote": inet("::1", port, ipv4=True)}),
        chardev("u6", "udp", {"remote": inet("127.0.0.1", "abc")}),
        chardev("u7", "udp", {"remote": inet("127.0.0.1", port), "local": inet("10.9.9.9", "0")}),
        chardev("u8", "udp", {"remote": inet("127.0.0.1", port), "local": inet("127.0.0.1", "0")}),
        chardev("p1", "pipe", {"device": f"{scratch}/missing"}),
        chardev("p2", "pipe", {"device": f"{scratch}/p"}),
        chardev("p3", "pipe", {"device": f"{scratch}/plain"}),
        chardev("s1", "serial", {"device": "/dev/null"}),
        chardev("s2", "serial", {"device": f"{scratch}/tty"}),
        chardev("m0", "mux", {"chardev": "nope"}),
        chardev("m1", "mux", {"chardev": "s1"}),
        chardev("m2", "mux", {"chardev": "s1"}),
        chardev("m3", "mux", {"chardev": "m1"}),
        ("chardev-remove", {"id": "s1"}),
        ("chardev-remove", {"id": "m3"}),
        ("chardev-change", {"id": "m1", "backend": {"type": "null", "data": {}}}),
        ("chardev-change", {"id": "s1", "backend": {"type": "null", "data": {}}}),
        ("query-chardev-backends", None),
        chardev("d1", "dbus", {"name": "org.qemu"}),
        ("query-chardev-backends", None),
        chardev("sv1", "spicevmc", {"type": "vdagent"}),
        chardev("sv2", "spicevmc", {"type": "port"}),
        chardev("sp", "spiceport", {"fqdn": "org.qemu"}),
        chardev("br", "braille"),
        ("query-chardev-backends", None),
        ("chardev-remove", {"id": "u1"}),
        ("chardev-remove", {"id": "d1"}),
        ("chardev-remove", {"id": "p2"}),
        # Last: QEMU 7.2's failed parallel open also closes its fd 0.
        chardev("pa", "parallel", {"device": "/dev/null"}),
    ]


async def replies_and_chardevs(path, steps):
    out, (listed,) = await replies_then(path, steps, "query-chardev")
    # QEMU lists chardevs in its hash table's order, the fleet in creation
    # order; QEMU's own monitor is not the VM's.
    return out, sorted((c for c in listed if c["label"] != "compat_monitor0"), key=lambda c: c["label"])


def test_backends_match_qemu():
    scratch = tempfile.mkdtemp(prefix="chardev-backends-", dir="/tmp")
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        peer.bind(("127.0.0.1", 0))
        for name in ("p.in", "p.out", "plain"):
            open(os.path.join(scratch, name), "wb").close()
        steps = sequence(scratch, str(peer.getsockname()[1]))
        compare_with_qemu("{name: vm0, machine: pc, plugins: {chardev: {serial: []}}}", steps, replies_and_chardevs)
    finally:
        peer.close()
        shutil.rmtree(scratch, ignore_errors=True)


def test_udp_sends_to_loopback_only():
    """Where QEMU 7.2 resolves any name and sends to any host, the fleet
    sends to loopback only (docs/security.md): another host's address, or
    a name other than localhost (its lookup would be DNS traffic), is
    refused before anything is resolved or sent."""
    refusal = "udp chardevs send to loopback addresses only in this simulator"
    steps = [
        chardev("u1", "udp", {"remote": inet("192.0.2.1", "4555")}),
        chardev("u2", "udp", {"remote": inet("no.such.host.invalid", "4555")}),
        chardev("u3", "udp", {"remote": inet("127.0.0.1", "4555"), "local": inet("example.invalid", "0")}),
        chardev("u4", "udp", {"remote": inet("localhost", "4555")}),
        ("query-chardev", None),
    ]
    got = replies_of(Fleet("{name: vm0, machine: pc, plugins: {chardev: {serial: []}}}"), steps)
    assert got[:3] == [
        ("error", "GenericError", f"Failed to add chardev 'u1': {refusal}: '192.0.2.1' is not one"),
        ("error", "GenericError", f"Failed to add chardev 'u2': {refusal}: 'no.such.host.invalid' is not one"),
        ("error", "GenericError", f"Failed to add chardev 'u3': {refusal}: 'example.invalid' is not one"),
    ]
    assert got[3] == ("return", {})
    assert [c["label"] for c in got[4][1]] == ["u4"]


def test_braille_connect_never_waits_on_brltty():
    """A `braille` chardev connects to brltty's socket (/var/lib/BrlAPI/0) on
    a worker. With brltty's backlog full, a blocking connect held one of
    libuv's four pool threads until brltty accepted (here: never; the client
    heard only the plugin's reply timeout). Non-blocking, the add fails at
    once. The fleet runs in a mount namespace of its own, where a scratch
    directory is /var/lib, so the host's /var/lib is untouched."""
    scratch = tempfile.mkdtemp(prefix="brlapi-", dir="/tmp")
    os.mkdir(os.path.join(scratch, "BrlAPI"))
    brltty = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    waiting = []
    try:
        brltty.bind(os.path.join(scratch, "BrlAPI", "0"))
        brltty.listen(0)
        # Fill the backlog: connects queue until one would block.
        while True:
            peer = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            peer.setblocking(False)
            waiting.append(peer)
            try:
                peer.connect(os.path.join(scratch, "BrlAPI", "0"))
            except BlockingIOError:
                break
        prefix = ["unshare", "-m", "sh", "-c", f'mount --bind {scratch} /var/lib && exec "$@"', "sh"]
        fleet = Fleet("{name: vm0, machine: pc, plugins: {chardev: {serial: []}}}", prefix=prefix)
        started = time.monotonic()
        got = replies_of(fleet, [chardev("b1", "braille"), ("query-chardev", None)])
        assert time.monotonic() - started < 10
        assert got == [
            ("error", "GenericError", "Failed to add chardev 'b1': brlapi__openConnection: connect: Resource temporarily unavailable"),
            ("return", []),
        ]
    finally:
        for peer in waiting:
            peer.close()
        brltty.close()
        shutil.rmtree(scratch, ignore_errors=True)
