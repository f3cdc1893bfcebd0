"""`qmpfleet serve --metrics`: Prometheus text at /metrics after real QMP
traffic, and the listener's limits (404, 431, slow clients, client count),
none of which may slow a VM down."""
import socket
import time

from conftest import required_fleet_binary
from fleet_http import (http_connect, http_get, metrics_fleet, parse_response, read_until_closed, samples)
from qmp_raw import RawQMP

#: The slow-client limit these tests set (http-request-timeout-ms).
REQUEST_TIMEOUT_MS = 600
#: A VM's query-status must come back within this while HTTP clients misbehave
#: (a blocked loop would take the whole request timeout).
QUICK_REPLY_SECONDS = 0.25


def test_metrics_count_commands_events_and_bytes():
    with metrics_fleet(required_fleet_binary()) as fleet:
        with RawQMP(fleet.vm_socket("vm0")) as client:
            client.negotiate()
            for _ in range(3):
                assert client.execute("query-status")["return"]["status"] == "running"
            assert client.execute("no-such-command")["error"]["class"] == "CommandNotFound"
            assert client.execute("stop") == {"return": {}}
            client.wait_event("STOP")
            with RawQMP(fleet.vm_socket("blk0")) as block:
                block.negotiate()
                assert "return" in block.execute("query-block")
                status, headers, body = http_get(fleet.http_port, "/metrics")
        assert status == 200
        assert headers["content-type"].startswith("text/plain; version=0.0.4")
        text = body.decode()
        values = samples(text)
        assert values['qmpfleet_commands_total{command="query-status",outcome="ok"}'] == 3
        assert values['qmpfleet_commands_total{command="stop",outcome="ok"}'] == 1
        assert values['qmpfleet_commands_total{command="(unknown)",outcome="CommandNotFound"}'] == 1
        assert values['qmpfleet_commands_total{command="query-block",outcome="ok"}'] == 1
        assert values['qmpfleet_command_duration_seconds_count{command="query-status"}'] == 3
        assert values['qmpfleet_command_duration_seconds_bucket{command="query-status",le="+Inf"}'] == 3
        assert values['qmpfleet_plugin_reply_seconds_count{plugin="block"}'] >= 1
        assert values['qmpfleet_vms{state="paused"}'] == 1
        assert values['qmpfleet_vms{state="running"}'] == 1
        assert values["qmpfleet_clients"] == 2
        assert values["qmpfleet_clients_accepted_total"] == 2
        assert values["qmpfleet_events_emitted_total"] >= 1
        assert values["qmpfleet_events_sent_total"] >= 1
        assert values["qmpfleet_received_bytes_total"] > 100
        assert values["qmpfleet_sent_bytes_total"] > values["qmpfleet_received_bytes_total"]
        assert values["qmpfleet_faults_fired_total"] == 0
        assert "# TYPE qmpfleet_command_duration_seconds histogram" in text


def test_paths_that_are_not_served_get_404():
    with metrics_fleet(required_fleet_binary()) as fleet:
        for path in ["/nope", "/metrics/", "/events/x", "/../metrics"]:
            status, _, _ = http_get(fleet.http_port, path)
            assert status == 404, path


def test_oversized_header_gets_431_and_close():
    with metrics_fleet(required_fleet_binary(), limits={"http-header-bytes": 1024}) as fleet:
        with http_connect(fleet.http_port) as sock:
            sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 2000 + b"\r\n\r\n")
            status, headers, _ = parse_response(read_until_closed(sock))
        assert status == 431
        assert headers["connection"] == "close"
        # A head within the limit is still served.
        assert http_get(fleet.http_port, "/metrics", "X-Small: " + "a" * 500 + "\r\n")[0] == 200


def test_slow_client_is_closed_and_vms_answer_meanwhile():
    limits = {"http-request-timeout-ms": REQUEST_TIMEOUT_MS, "http-clients": 4}
    with metrics_fleet(required_fleet_binary(), limits=limits) as fleet:
        slow = []
        for _ in range(4):
            sock = http_connect(fleet.http_port)
            sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
            slow.append(sock)
        opened = time.monotonic()
        # Every slot is held: one more client gets 503 at once.
        status, _, _ = http_get(fleet.http_port, "/metrics")
        assert status == 503
        with RawQMP(fleet.vm_socket("vm0")) as client:
            client.negotiate()
            for _ in range(5):
                started = time.monotonic()
                assert client.execute("query-status")["return"]["running"] is True
                assert time.monotonic() - started < QUICK_REPLY_SECONDS
        for sock in slow:
            assert read_until_closed(sock) == b"", "a slow client got an answer instead of a close"
            sock.close()
        waited = time.monotonic() - opened
        assert REQUEST_TIMEOUT_MS / 1000 * 0.8 <= waited < REQUEST_TIMEOUT_MS / 1000 + 3
        # The slots are free again.
        assert http_get(fleet.http_port, "/metrics")[0] == 200


def test_non_loopback_address_is_refused_without_the_flag(tmp_path):
    import subprocess
    binary = required_fleet_binary()
    config = tmp_path / "fleet.yaml"
    config.write_text("vms: []\n")
    result = subprocess.run([binary, "serve", "--config", str(config), "--socket-dir", str(tmp_path / "s"),
                             "--metrics", "0.0.0.0:0"], capture_output=True, timeout=20)
    assert result.returncode == 1
    assert b"not a loopback address" in result.stderr


def test_faults_fired_are_counted():
    with metrics_fleet(required_fleet_binary()) as fleet:
        with RawQMP(fleet.control) as control, RawQMP(fleet.vm_socket("vm0")) as vm0:
            control.negotiate()
            vm0.negotiate()
            control.execute("fault-add", {"id": "f", "vm": "vm0", "command": "query-status", "times": 2,
                                          "action": "error", "error-class": "DeviceNotActive", "desc": "no"})
            for _ in range(3):
                vm0.execute("query-status")
            values = samples(http_get(fleet.http_port, "/metrics")[2].decode())
        assert values["qmpfleet_faults_fired_total"] == 2
        assert values['qmpfleet_commands_total{command="query-status",outcome="DeviceNotActive"}'] == 2
        assert values['qmpfleet_commands_total{command="query-status",outcome="ok"}'] == 1
