"""A VM with more clients than `clients-written-by-vm-loop`: the writes of
the clients past it are made by the fleet's other loop (CrossLoopTransport),
while their sessions stay on the VM's loop. Every client must still get
every event, in order, with its replies in their places, and a client that
leaves must leave no descriptor behind. Fleet only: QEMU serves one client
per -qmp socket."""
import os
import socket
import threading
import time

import pytest

from conftest import FLEET_QEMU_VERSION, PC_TEMPLATE, FleetProcess, fleet_yaml, required_fleet_binary
from qmp_raw import RawQMP

# Bounds a latency (see pytest.ini: serial): runs alone, not beside other files.
pytestmark = pytest.mark.serial

#: Clients of the one VM: with the limit at 2 and two loops, 11 of them are
#: written to by the other loop.
CLIENTS = 24
#: stop/cont pairs the controller sends.
PAIRS = 15
#: stop/cont pairs sent while one client reads nothing: more events than
#: its socket buffers and output limit hold together.
PAIRS_UNREAD = 3000


def spread_fleet():
    def config(socket_dir):
        return (fleet_yaml(socket_dir, {"pc": PC_TEMPLATE}, [{"name": "vm0", "template": "pc"}], FLEET_QEMU_VERSION)
                + "limits: {clients-written-by-vm-loop: 2}\n")
    return FleetProcess.on_config(required_fleet_binary(), ["vm0"], config, extra_args=["--loops", "2"])


def open_descriptors(fleet):
    return len(os.listdir(f"/proc/{fleet.process.pid}/fd"))


def wait_for_descriptors(fleet, count, timeout=5.0):
    deadline = time.monotonic() + timeout
    while open_descriptors(fleet) != count and time.monotonic() < deadline:
        time.sleep(0.05)
    return open_descriptors(fleet)


def test_every_client_gets_every_event_and_its_replies_in_order():
    fleet = spread_fleet()
    clients = []
    try:
        before = open_descriptors(fleet)
        clients = [RawQMP(fleet.vm_socket("vm0")) for _ in range(CLIENTS)]
        for client in clients:
            client.negotiate()
        controller = clients[0]
        for pair in range(PAIRS):
            # Each client's own request goes out between the controller's
            # stop and cont: its reply must sit among the events in order.
            controller.send({"execute": "stop", "id": f"stop{pair}"})
            for index, client in enumerate(clients[1:], 1):
                client.send({"execute": "query-status", "id": f"q{index}-{pair}"})
            controller.send({"execute": "cont", "id": f"cont{pair}"})
        for index, client in enumerate(clients):
            messages = []
            expected_replies = 2 * PAIRS if index == 0 else PAIRS
            while sum("event" not in m for m in messages) < expected_replies or \
                    sum("event" in m for m in messages) < 2 * PAIRS:
                messages.append(client.read_message())
            events = [m for m in messages if "event" in m]
            assert [e["event"] for e in events] == ["STOP", "RESUME"] * PAIRS, f"client {index}"
            stamps = [(e["timestamp"]["seconds"], e["timestamp"]["microseconds"]) for e in events]
            assert stamps == sorted(stamps), f"client {index}"
            replies = [m["id"] for m in messages if "event" not in m]
            if index == 0:
                assert replies == [f"{kind}{pair}" for pair in range(PAIRS) for kind in ("stop", "cont")]
                # Each reply follows the event its command caused.
                for pair in range(PAIRS):
                    stop = messages.index({"return": {}, "id": f"stop{pair}"})
                    assert messages[stop - 1]["event"] == "STOP"
            else:
                assert replies == [f"q{index}-{pair}" for pair in range(PAIRS)], f"client {index}"
            assert client.pending_bytes(0.05) == b""
        # Clients leave, some with replies on the way: every descriptor the
        # fleet took for them (the writers' duplicates too) is closed.
        for client in clients[::2]:
            client.send({"execute": "query-status"})
            client.close()
        for client in clients[1::2]:
            assert client.execute("query-status")["return"]["status"] == "running"
            client.close()
        assert wait_for_descriptors(fleet, before) == before
    finally:
        for client in clients:
            client.close()
        fleet.close()


def test_a_spread_client_that_does_not_read_is_dropped_alone():
    """The output limits hold for a client the other loop writes to: one
    that never reads is disconnected; the others still get everything."""
    def config(socket_dir):
        return (fleet_yaml(socket_dir, {"pc": PC_TEMPLATE}, [{"name": "vm0", "template": "pc"}], FLEET_QEMU_VERSION)
                + "limits: {clients-written-by-vm-loop: 0, session-output-bytes: 65536, session-output-stall-ms: 300}\n")
    fleet = FleetProcess.on_config(required_fleet_binary(), ["vm0"], config, extra_args=["--loops", "2"])
    clients = []
    try:
        # With the limit at 0 and two loops, every second client's writes
        # are the other loop's: the second one here.
        clients = [RawQMP(fleet.vm_socket("vm0")) for _ in range(3)]
        for client in clients:
            client.negotiate()
        controller, stuck, healthy = clients
        stuck.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        # The healthy client reads as the events come, as a client should.
        events = []
        reader = threading.Thread(target=lambda: events.extend(healthy.read_message() for _ in range(2 * PAIRS_UNREAD)))
        reader.start()
        controller.send(b'{"execute": "stop"}{"execute": "cont"}' * PAIRS_UNREAD)
        for _ in range(2 * PAIRS_UNREAD):
            assert controller.read_reply() == {"return": {}}
        reader.join(30)
        assert [e["event"] for e in events] == ["STOP", "RESUME"] * PAIRS_UNREAD
        deadline = time.monotonic() + 5.0
        while not stuck.closed_by_peer and time.monotonic() < deadline:
            try:
                stuck.pending_bytes(0.2)
            except ConnectionError:
                break
        assert stuck.closed_by_peer, "the client that did not read was not disconnected"
        assert healthy.execute("query-status")["return"]["status"] == "running"
    finally:
        for client in clients:
            client.close()
        fleet.close()
