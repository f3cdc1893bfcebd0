"""The live fleet page in headless Chromium: the VM list follows a VM that
is stopped over QMP, and the VM's pane shows the command and its event as
they happen. A screenshot is kept in Tests/protocol/artifacts/."""
import os

from cdp_pipe import Chromium, chromium_binary
from conftest import missing, required_fleet_binary
from fleet_http import metrics_fleet
from qmp_raw import RawQMP

ARTIFACTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "artifacts")
STATE_OF = "document.querySelector('tr[data-vm=\"{}\"]')?.dataset.state"


def test_page_shows_a_stopped_vm_live():
    binary = required_fleet_binary()
    if chromium_binary() is None:
        missing("chromium not installed (scripts/install-deps installs it)")
    with metrics_fleet(binary) as fleet:
        with RawQMP(fleet.vm_socket("vm0")) as client:
            client.negotiate()
            assert client.execute("query-status")["return"]["status"] == "running"
            with Chromium(f"http://127.0.0.1:{fleet.http_port}/#vm=vm0") as browser:
                assert browser.wait_for(STATE_OF.format("vm0")) == "running"
                assert browser.wait_for(STATE_OF.format("blk0")) == "running"
                # The pane got the VM's history: the query-status above.
                browser.wait_for("document.getElementById('commands').textContent.includes('query-status')")
                assert client.execute("stop") == {"return": {}}
                assert browser.wait_for(STATE_OF.format("vm0") + " === 'paused' && 'paused'") == "paused"
                assert browser.evaluate(STATE_OF.format("blk0")) == "running"
                assert browser.wait_for("document.getElementById('vm-state').textContent") == "paused"
                browser.wait_for("document.getElementById('commands').textContent.includes('\"execute\": \"stop\"')")
                browser.wait_for("document.getElementById('events').textContent.includes('\"event\": \"STOP\"')")
                # The row shows its clients and plugins too.
                row = browser.evaluate("[...document.querySelector('tr[data-vm=\"blk0\"]').cells]"
                                       ".map(c => c.textContent)")
                assert row[0] == "blk0" and row[3] == "block"
                os.makedirs(ARTIFACTS, exist_ok=True)
                browser.screenshot(os.path.join(ARTIFACTS, "fleet-page.png"))


def read_event(sock, name, timeout=5.0):
    """The data of the next server-sent event called `name` on a stream."""
    import json
    import time
    buffer = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        while b"\n\n" in buffer:
            message, _, buffer = buffer.partition(b"\n\n")
            lines = message.decode().split("\n")
            if f"event: {name}" in lines:
                return json.loads("\n".join(line[len("data: "):] for line in lines if line.startswith("data: ")))
        chunk = sock.recv(65536)
        assert chunk, "the stream closed"
        buffer += chunk
    raise AssertionError(f"no {name} event in {timeout}s")


def test_fleet_feed_lists_at_most_page_vms_and_counts_the_rest():
    from fleet_http import http_connect
    with metrics_fleet(required_fleet_binary(), limits={"page-vms": 1}) as fleet:
        with http_connect(fleet.http_port) as sock:
            sock.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
            fleet_list = read_event(sock, "fleet")
        assert fleet_list["total"] == 2
        assert [vm["name"] for vm in fleet_list["vms"]] == ["vm0"]
        assert fleet_list["vms"][0]["state"] == "running"
        with http_connect(fleet.http_port) as sock:
            sock.sendall(b"GET /events?vm=nosuch HTTP/1.1\r\n\r\n")
            assert sock.recv(100).startswith(b"HTTP/1.1 404 ")
