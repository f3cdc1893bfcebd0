"""Several clients on one VM at once: what the fleet adds over QEMU, which
serves one client per -qmp socket (a second client waits, greeting-less,
until the first leaves). Fleet only."""
import asyncio
import time

import pytest

import qmp_async

# Bounds a latency (see pytest.ini: serial): runs alone, not beside other files.
pytestmark = pytest.mark.serial

#: Requests the non-reading client pipelines: enough replies to fill its
#: socket buffer several times over.
FLOOD_REQUESTS = 20_000
#: Round trips the well-behaved client makes while the other one is stuck.
ROUND_TRIPS = 200
#: Generous: about 1 ms each on this machine when nothing is in the way.
ROUND_TRIPS_BUDGET_SECONDS = 5.0


def test_three_clients_share_events(fleet):
    path = fleet.vm_socket("vm0")

    async def body():
        clients = [await qmp_async.connect(path, f"c{i}") for i in range(3)]
        try:
            for client in clients:
                assert (await qmp_async.execute(client, "query-status"))["status"] == "running"
            assert await qmp_async.execute(clients[1], "stop") == {}
            for client in clients:
                event = await qmp_async.next_event(client, "STOP")
                assert list(event) == ["timestamp", "event"]
            for client in clients:
                assert await qmp_async.execute(client, "query-status") == \
                    {"status": "paused", "singlestep": False, "running": False}
            assert await qmp_async.execute(clients[2], "cont") == {}
            stamps = set()
            for client in clients:
                stamps.add(str((await qmp_async.next_event(client, "RESUME"))["timestamp"]))
            # One event, built once, the same bytes for everyone.
            assert len(stamps) == 1
        finally:
            await qmp_async.disconnect_all(clients)

    qmp_async.run(body())


def test_negotiation_is_per_client(fleet, raw_client):
    path = fleet.vm_socket("vm0")
    first = raw_client(path)
    first.negotiate()
    second = raw_client(path)
    second.greeting()
    assert second.execute("query-status")["error"]["class"] == "CommandNotFound"
    assert first.execute("query-status")["return"]["running"] is True


def test_events_not_sent_before_negotiation(fleet, raw_client):
    path = fleet.vm_socket("vm0")
    waiting = raw_client(path)
    waiting.greeting()
    active = raw_client(path)
    active.negotiate()
    active.exchange({"execute": "stop"})
    assert waiting.pending_bytes(0.3) == b""


def test_a_client_that_never_reads_does_not_slow_others(fleet, raw_client):
    path = fleet.vm_socket("vm0")
    stuck = raw_client(path)
    stuck.negotiate()
    stuck.sock.setblocking(False)
    flood = b'{"execute": "query-status"}' * FLOOD_REQUESTS
    try:
        sent = stuck.sock.send(flood)   # as much as the kernel takes; never read
    except BlockingIOError:
        sent = 0
    assert sent > 0

    healthy = raw_client(path)
    healthy.negotiate()
    start = time.monotonic()
    for i in range(ROUND_TRIPS):
        assert healthy.execute("query-name", id=i) == {"return": {"name": "vm0"}, "id": i}
    assert time.monotonic() - start < ROUND_TRIPS_BUDGET_SECONDS
    # Events still reach the healthy client while the stuck one's queue is full.
    events, _ = healthy.exchange({"execute": "stop"})
    assert [e["event"] for e in events] == ["STOP"]


def test_reconnect_gets_a_fresh_greeting(fleet, raw_client):
    path = fleet.vm_socket("vm0")
    first = raw_client(path)
    greeting = first.negotiate()
    first.execute("stop")
    first.close()
    again = raw_client(path)
    assert again.greeting() == greeting
    # A new session: negotiation again, and no stale events or replies.
    assert again.execute("query-status")["error"]["desc"] == \
        "Expecting capabilities negotiation with 'qmp_capabilities'"
    assert again.execute("qmp_capabilities") == {"return": {}}
    assert again.execute("query-status")["return"]["status"] == "paused"
    assert again.take_events() == []


def test_many_reconnects_through_qemu_qmp(fleet):
    path = fleet.vm_socket("vm0")

    async def body():
        for i in range(20):
            client = await qmp_async.connect(path, f"r{i}")
            assert (await qmp_async.execute(client, "query-name")) == {"name": "vm0"}
            await client.disconnect()

    qmp_async.run(body())


def test_clients_on_different_vms_are_independent(fleet, raw_client):
    running = raw_client(fleet.vm_socket("vm0"))
    running.negotiate()
    other = raw_client(fleet.vm_socket("pre0"))
    other.negotiate()
    running.exchange({"execute": "stop"})
    assert other.pending_bytes(0.2) == b""
    assert other.execute("query-status")["return"]["status"] == "prelaunch"
    assert other.execute("query-name") == {"return": {"name": "pre0"}}
