"""Issue 18: "not reading" means no progress for the configured time, not
bytes queued at one moment.

- A client that sends `query-name` with a 10 MiB `id` (more than the
  fleet's default output budget) and reads as fast as it can gets its whole
  reply from the fleet, well under a second; QEMU 7.2, which has no output
  budget, answers the same request with a 1 MiB `id` (it parses about
  350 KB/s of JSON: 10 MiB would take 30 s of CI's time, 3 minutes on a busy
  machine, to show nothing more).
- On the fleet, with a small output budget, a client that reads slowly but
  steadily gets a reply many times the budget; one that stops reading is
  cut off after `session-output-stall-ms`, and another client of the same
  VM does not notice.
"""
import socket
import time

import pytest

import conftest
from qmp_raw import RawQMP

# Bounds a latency (see pytest.ini: serial): runs alone, not beside other files.
pytestmark = pytest.mark.serial

ID_BYTES = {"fleet": 10 << 20, "qemu": 1 << 20}
#: QEMU parses about 350 KB/s of JSON: 1 MiB takes about 3 s.
QEMU_PARSE_TIMEOUT = 60
#: Small limits for the fleet-only cases.
LIMITS = {"session-output-bytes": 65536, "session-output-stall-ms": 500}
SLOW_ID_BYTES = 2 << 20


@pytest.fixture
def limited_fleet(monkeypatch):
    binary = conftest.required_fleet_binary()

    def config(socket_dir):
        return (conftest.fleet_yaml(socket_dir, {"pc": conftest.PC_TEMPLATE}, [{"name": "vm0", "template": "pc"}],
                                    conftest.FLEET_QEMU_VERSION)
                + "limits: " + conftest._yaml_flow(LIMITS) + "\n")

    fleet = conftest.FleetProcess.on_config(binary, ["vm0"], config)
    yield fleet
    fleet.close()


def test_ten_mib_id_reaches_a_client_that_reads(backend, raw_client):
    client = raw_client(backend.vm(), timeout=QEMU_PARSE_TIMEOUT)
    client.negotiate()
    big = "x" * ID_BYTES[backend.kind]
    client.send({"execute": "query-name", "id": big})
    reply = client.read_reply()
    assert "return" in reply and reply["id"] == big
    assert "return" in client.execute("query-status")


def test_slow_steady_reader_gets_a_reply_many_times_the_budget(limited_fleet):
    with RawQMP(limited_fleet.vm_socket("vm0"), timeout=60) as client:
        client.negotiate()
        big = "y" * SLOW_ID_BYTES
        client.send({"execute": "query-name", "id": big})
        client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        received = bytearray()
        # 64 KiB every 100 ms: progress well within the 500 ms stall limit.
        while not received.endswith(b"\r\n"):
            chunk = client.sock.recv(65536)
            assert chunk, f"the fleet closed the connection after {len(received)} bytes{limited_fleet.log_tail()}"
            received += chunk
            time.sleep(0.1)
        assert len(received) > SLOW_ID_BYTES > 30 * LIMITS["session-output-bytes"]
        assert "return" in client.execute("query-status")


def test_client_that_stops_reading_is_cut_off_alone(limited_fleet):
    path = limited_fleet.vm_socket("vm0")
    with RawQMP(path) as stuck, RawQMP(path) as other:
        stuck.negotiate()
        other.negotiate()
        stuck.send({"execute": "query-name", "id": "z" * SLOW_ID_BYTES})
        # Once its request is parsed and answered (a debug build takes a
        # while), its stuck output costs the other client nothing.
        time.sleep(0.3)
        for _ in range(20):
            start = time.monotonic()
            assert "return" in other.execute("query-status")
            assert time.monotonic() - start < 0.1
            time.sleep(0.05)
        time.sleep(LIMITS["session-output-stall-ms"] / 1000 * 2 + 0.5)
        received = 0
        stuck.sock.settimeout(5)
        try:
            while True:
                chunk = stuck.sock.recv(1 << 20)
                if not chunk:
                    break
                received += len(chunk)
        except ConnectionResetError:
            pass
        assert received < SLOW_ID_BYTES, "the stuck client was cut off before its reply ended"
        assert "return" in other.execute("query-status")
