"""Issue 16, the wire: hostile clients of a VM's QMP socket against a fleet
whose VMs share one loop (`loops: 1`). For each case, as in
test_adversarial.py: the fleet is alive afterwards, a bystander VM on the
same loop answered `query-status` within 100 ms all the while, and the
hostile client got QEMU 7.2's error (or, for a fleet-only limit, was
disconnected).

- an object with 500,000 distinct keys then a repeated one (about 6 MB,
  inside QEMU's token limits): "JSON parse error, duplicate key", found in
  linear time (a scan per key took 23 s for 100,000 keys), and parsed token
  by token as the reads come (parsed whole at its last byte, it held the
  loop for 2.7 s in a debug build);
- the parser budget of the whole fleet (`parser-bytes-per-fleet`): a
  client whose partial message would pass it gets QEMU's error for an
  oversized message, "JSON token size limit exceeded";
- a client that half-closes and never reads loses its descriptor after
  `final-flush-ms`;
- a connection that never negotiates is closed after `negotiation-timeout-ms`.
"""
import json
import shutil
import socket
import time

import pytest

import conftest
from process_usage import fd_count, settle
from qmp_raw import RawQMP
from test_adversarial import watcher

# Bounds a latency (see pytest.ini: serial): runs alone, not beside other files.
pytestmark = pytest.mark.serial

KEYS = 500_000
PARSER_BUDGET = 1 << 20
#: Each case's own limit, so that no other limit interferes with it.
LIMITS = {"final-flush-ms": 500, "session-output-stall-ms": 60000, "negotiation-timeout-ms": 500}


@pytest.fixture
def wire_fleet(request):
    """victim and bystander on one loop, with LIMITS plus the test's own
    (`@pytest.mark.limits(...)`); yields the fleet and `watched(case)`,
    which runs a case under the bystander's eye."""
    binary = conftest.required_fleet_binary()
    marker = request.node.get_closest_marker("limits")
    limits = dict(LIMITS, **(marker.kwargs if marker else {}))

    def config(socket_dir):
        return (conftest.fleet_yaml(socket_dir, {"pc": conftest.PC_TEMPLATE},
                                    [{"name": "victim", "template": "pc"}, {"name": "bystander", "template": "pc"}],
                                    conftest.FLEET_QEMU_VERSION)
                + "loops: 1\nlimits: " + conftest._yaml_flow(limits) + "\n")

    fleet = conftest.FleetProcess.on_config(binary, ["victim", "bystander"], config)

    watched = watcher(fleet)

    yield fleet, watched
    problems = fleet.shutdown_problems()
    fleet.cleanup()
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def many_keys(count, repeat_first=True):
    members = ", ".join(f'"k{i}": 0' for i in range(count))
    return "{" + members + (', "k0": 1' if repeat_first else "") + "}"


def test_many_distinct_keys_with_a_duplicate(wire_fleet, qemu_vm):
    fleet, watched = wire_fleet
    duplicate = {"class": "GenericError", "desc": "JSON parse error, duplicate key"}
    # QEMU's answer, on a size it parses in a moment (about 350 KB/s).
    with RawQMP(qemu_vm("pc", paused=True).socket) as q:
        q.negotiate()
        q.send(many_keys(2000))
        assert q.read_reply()["error"] == duplicate

    def case():
        with RawQMP(fleet.vm_socket("victim"), timeout=60) as c:
            c.negotiate()
            text = many_keys(KEYS)
            assert len(text) > 6_000_000
            start = time.monotonic()
            c.send(text)
            assert c.read_reply()["error"] == duplicate
            print(f"{KEYS} keys answered in {time.monotonic() - start:.2f} s")
            assert "return" in c.execute("query-status")
    watched(case)


@pytest.mark.limits(**{"parser-bytes-per-fleet": PARSER_BUDGET})
def test_fleet_parser_budget(wire_fleet):
    fleet, watched = wire_fleet

    def case():
        with RawQMP(fleet.vm_socket("victim")) as holder, RawQMP(fleet.vm_socket("bystander")) as second:
            holder.negotiate()
            second.negotiate()
            # The holder keeps 60% of the budget in a message it has not finished.
            holder.send('{"execute": "query-name", "id": "' + "a" * (PARSER_BUDGET * 6 // 10))
            time.sleep(0.3)
            # The second client's partial message would pass the budget.
            second.send('{"execute": "query-name", "id": "' + "B" * (PARSER_BUDGET * 6 // 10))
            assert second.read_reply() == {"error": {"class": "GenericError", "desc": "JSON token size limit exceeded"}}
            # It recovers as from QEMU's own limit: the rest of its string is
            # skipped as stray input up to the next structural character.
            second.send('"}\n')
            second.drain(quiet=0.3)
            assert "return" in second.execute("query-status")
            # The holder's message was kept whole.
            holder.send('"}')
            reply = holder.read_reply()
            assert "return" in reply and len(reply["id"]) == PARSER_BUDGET * 6 // 10
    watched(case)


def non_reader(path):
    """A client socket that holds little unread: what the fleet writes
    beyond a few KiB waits in the fleet's own queue."""
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    client.connect(path)
    return client


def test_half_closed_client_that_never_reads_is_released(wire_fleet):
    fleet, watched = wire_fleet
    pid = fleet.process.pid

    def case():
        time.sleep(0.3)
        baseline = fd_count(pid)
        hostile = non_reader(fleet.vm_socket("victim"))
        # More reply than the socket buffers hold (a bigger one costs a
        # debug build past the bystander bound to parse and write), then the
        # half-close.
        request = json.dumps({"execute": "qmp_capabilities"}) + json.dumps({"execute": "query-name", "id": "q" * (300 << 10)})
        hostile.sendall(request.encode())
        hostile.shutdown(socket.SHUT_WR)
        time.sleep(0.3)
        assert fd_count(pid) > baseline, "the fleet still holds the half-closed client"
        released = settle(pid, baseline, timeout=LIMITS["final-flush-ms"] / 1000 + 3)
        hostile.close()
        assert released <= baseline, f"descriptor kept past final-flush-ms ({released} > {baseline})"
    watched(case)


@pytest.mark.limits(**{"session-output-bytes": 65536, "final-flush-ms": 60000})
def test_client_that_leaves_with_replies_unread_is_released(wire_fleet):
    """Found by the hostile soak: a client sends more requests than its
    output budget holds replies for, half-closes, then closes with the
    replies unread. The session had stopped reading until its output
    drained; the failed write dropped the output and the session waited for
    a drain that never came, keeping the descriptor for good (one per such
    client; the final flush's deadline, here a minute, never started)."""
    fleet, watched = wire_fleet
    pid = fleet.process.pid

    def case():
        time.sleep(0.3)
        baseline = fd_count(pid)
        hostile = non_reader(fleet.vm_socket("victim"))
        # Small requests (all of them fit the socket's buffers), large replies.
        requests = json.dumps({"execute": "qmp_capabilities"}) + json.dumps({"execute": "query-qmp-schema"}) * 20
        hostile.sendall(requests.encode())
        hostile.shutdown(socket.SHUT_WR)
        time.sleep(0.3)
        hostile.close()
        released = settle(pid, baseline, timeout=5)
        assert released <= baseline, f"descriptor kept after the client left ({released} > {baseline})"
    watched(case)


def test_connection_that_never_negotiates_is_closed(wire_fleet):
    fleet, watched = wire_fleet

    def case():
        with RawQMP(fleet.vm_socket("victim")) as idle, RawQMP(fleet.vm_socket("victim")) as busy:
            idle.greeting()
            busy.greeting()
            start = time.monotonic()
            # Busy but never negotiating is no better than idle.
            busy.send({"execute": "query-status"})
            assert busy.read_reply()["error"]["desc"] == "Expecting capabilities negotiation with 'qmp_capabilities'"
            for client in (idle, busy):
                with pytest.raises(ConnectionError):
                    client.read_message(timeout=LIMITS["negotiation-timeout-ms"] / 1000 + 3)
            assert time.monotonic() - start >= LIMITS["negotiation-timeout-ms"] / 1000 * 0.9
    watched(case)
