"""Hostile clients against the built binary, measured from outside through
/proc/<pid>: a client that never reads while events flood, one byte per
second, half a message then gone, 10,000 connect/disconnects, and every
limit hit at once. Fleet only (QEMU serves one client per socket).

The bounds below are stated, and each test prints what it measured
(`pytest -s` shows them)."""
import os
import shutil
import socket
import subprocess
import time

import pytest

import conftest
from process_usage import fd_count, rss_kb, settle
from qmp_raw import RawQMP

# Bounds a latency (see pytest.ini: serial): runs alone, not beside other files.
pytestmark = pytest.mark.serial

#: Small limits so each test reaches them in well under a second.
LIMITS = {"session-output-bytes": 65536, "clients-per-vm": 64, "pending-commands-per-session": 8,
          "max-token-bytes": 65536, "max-nesting": 64}
#: A healthy client's slowest round trip while another client is being
#: flooded and cut off (about 1 ms normally; generous for a shared 2-core
#: machine and ASan builds).
FLOOD_ROUND_TRIP_BOUND_SECONDS = 0.25
#: RSS growth allowed after a hostile pattern once its connections are gone:
#: allocator slack, not a leak (a leak of 1 KB per connection would be 10 MB).
RSS_SLACK_KB = 4096
#: The process's RSS with every limit hit at once (64 clients x 64 KB queued,
#: messages at max-token-bytes, nesting at max-nesting), measured ~25 MB.
RSS_ALL_LIMITS_BOUND_KB = 96 * 1024
CONNECT_CYCLES = 10_000
#: Under AddressSanitizer (set ASAN_OPTIONS when QMPFLEET_BIN is an ASan
#: build) freed memory sits in ASan's quarantine, so RSS says nothing about
#: leaks: the fd checks still apply, the RSS bounds do not.
RSS_MEANINGFUL = "ASAN_OPTIONS" not in os.environ
#: Events (about 80 bytes each) queued to the stuck client: past its
#: 64 KB queue plus the kernel's socket buffers (~200 KB each way).
FLOOD_EVENTS = 8000
FLOOD_BATCH = 100


@pytest.fixture
def hostile_fleet(monkeypatch):
    binary = conftest.required_fleet_binary()
    started = []

    def start(vms=None, limits=None):
        limits = limits or LIMITS
        monkeypatch.setattr(conftest, "fleet_yaml",
                            lambda s, t, v, ver, _orig=conftest.fleet_yaml: _orig(s, t, v, ver)
                            + "limits: " + conftest._yaml_flow(limits) + "\n")
        # The conftest fleet, its config written with a `limits:` section.
        fleet = conftest.FleetProcess(binary, {"pc": conftest.PC_TEMPLATE}, vms or [{"name": "vm0", "template": "pc"}])
        started.append(fleet)
        return fleet

    yield start
    for fleet in started:
        code, left = fleet.terminate()
        fleet.cleanup()
        assert code == 0, f"qmpfleet exited with {code} after SIGTERM"
        assert not left


def baseline(pid):
    """fd count and RSS once the fd count has stopped changing (the
    server closes a warm-up connection shortly after the client does)."""
    last = -1
    while fd_count(pid) != last:
        last = fd_count(pid)
        time.sleep(0.2)
    return last, rss_kb(pid)


def warm_up(path, rounds=50):
    """Some connections first, so the baseline includes the allocator's
    steady state rather than first-use growth."""
    for _ in range(rounds):
        c = RawQMP(path)
        c.negotiate()
        c.execute("query-status")
        c.sock.close()


def test_never_reading_client_is_cut_off_and_others_keep_getting_replies(hostile_fleet):
    fleet = hostile_fleet()
    path = fleet.vm_socket("vm0")
    stuck = RawQMP(path)
    stuck.negotiate()
    stuck.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    healthy = RawQMP(path)
    healthy.negotiate()
    # Every stop/cont is one event (STOP/RESUME) to both clients: the
    # healthy client pipelines them in batches and reads everything; the
    # stuck one reads nothing. Between batches, one timed query-status
    # round trip is the latency the healthy client sees.
    slowest = 0.0
    events = 0
    start = time.monotonic()
    while events < FLOOD_EVENTS and time.monotonic() - start < 10.0:
        healthy.sock.sendall(b'{"execute": "stop"}{"execute": "cont"}' * (FLOOD_BATCH // 2))
        replies = 0
        while replies < FLOOD_BATCH:
            if "return" in healthy.read_message():
                replies += 1
        events += FLOOD_BATCH
        t = time.monotonic()
        assert "return" in healthy.execute("query-status")
        slowest = max(slowest, time.monotonic() - t)
        healthy.events.clear()
    flood_seconds = time.monotonic() - start
    cut_off = _peer_closed(stuck.sock)
    print(f"\nflood: {events} events in {flood_seconds:.1f} s, slowest query-status round trip "
          f"{slowest * 1000:.1f} ms, stuck client cut off: {cut_off}")
    assert cut_off, "the non-reading client was never disconnected"
    assert slowest < FLOOD_ROUND_TRIP_BOUND_SECONDS
    # And the healthy one is still served.
    assert healthy.execute("query-status")["return"]["status"] == "running"


def _peer_closed(sock):
    """True once the server has closed: drains what it had queued (the
    kernel buffer), then sees EOF or a reset."""
    sock.setblocking(False)
    try:
        while True:
            data = sock.recv(1 << 20)
            if not data:
                return True
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True
    finally:
        sock.setblocking(True)


def test_slow_half_and_churning_clients_leave_nothing_behind(hostile_fleet):
    fleet = hostile_fleet()
    path = fleet.vm_socket("vm0")
    pid = fleet.process.pid
    warm_up(path)
    fds0, rss0 = baseline(pid)

    # One byte per second (3 s), then gone mid-message.
    slow = socket.socket(socket.AF_UNIX)
    slow.connect(path)
    for b in b'{"ex':
        slow.send(bytes([b]))
        time.sleep(1.0 if b != ord("x") else 0)
    # Half a message, then vanish; likewise a half negotiated session with a
    # half-written big string.
    half = socket.socket(socket.AF_UNIX)
    half.connect(path)
    half.send(b'{"execute": "qmp_capabilities"}{"execute": "query-status", "arguments": {"x": "' + b"a" * 30000)
    half.close()
    slow.close()

    # 10,000 connect/disconnect cycles.
    t = time.monotonic()
    for i in range(CONNECT_CYCLES):
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
        if i % 2:
            s.send(b'{"execute": "qmp_capabilities"}')
        s.close()
    churn = time.monotonic() - t
    fds1 = settle(pid, fds0)
    # One real exchange proves the server got through the backlog.
    c = RawQMP(path)
    c.negotiate()
    assert c.execute("query-status")["return"]["running"] is True
    c.sock.close()
    fds1 = settle(pid, fds0)
    rss1 = rss_kb(pid)
    print(f"\nchurn: {CONNECT_CYCLES} cycles in {churn:.1f} s; fds {fds0} -> {fds1}; RSS {rss0} -> {rss1} KB")
    assert fds1 == fds0
    assert rss1 - rss0 < RSS_SLACK_KB or not RSS_MEANINGFUL


def test_rss_bounded_with_every_limit_hit_at_once(hostile_fleet):
    limits = dict(LIMITS)
    fleet = hostile_fleet(vms=[{"name": "vm{n}", "template": "pc", "count": 4}], limits=limits)
    pid = fleet.process.pid
    for vm in range(4):
        warm_up(fleet.vm_socket(f"vm{vm}"), 10)
    fds0, rss0 = baseline(pid)
    clients = []
    refused = 0
    deep = b"[" * (limits["max-nesting"] + 5) + b"]" * (limits["max-nesting"] + 5)
    big = b'{"execute": "query-status", "id": "' + b"x" * (limits["max-token-bytes"] + 10) + b'"}'
    for vm in range(4):
        path = fleet.vm_socket(f"vm{vm}")
        for i in range(limits["clients-per-vm"] + 8):   # past clients-per-vm
            s = socket.socket(socket.AF_UNIX)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.connect(path)
            s.setblocking(False)
            try:
                s.send(b'{"execute": "qmp_capabilities"}')
                # Past max-token-bytes, past max-nesting, then more pending
                # commands than allowed, and never read any reply.
                s.send(big)
                s.send(deep)
                s.send(b'{"execute": "query-qmp-schema"}' * 2 + b'{"execute": "query-status"}' * 40)
            except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                refused += 1
            clients.append(s)
    peak = 0
    for _ in range(15):
        time.sleep(0.1)
        peak = max(peak, rss_kb(pid))
    for s in clients:
        s.close()
    t = time.monotonic()
    fds1 = settle(pid, fds0, timeout=20.0)
    print(f"\nsettled in {time.monotonic() - t:.1f} s")
    rss1 = rss_kb(pid)
    print(f"\nall limits: {len(clients)} clients ({refused} refused mid-send); RSS {rss0} -> peak {peak} -> {rss1} KB; "
          f"fds {fds0} -> {fds1}")
    assert fleet.process.poll() is None
    assert peak < RSS_ALL_LIMITS_BOUND_KB or not RSS_MEANINGFUL
    assert fds1 == fds0
