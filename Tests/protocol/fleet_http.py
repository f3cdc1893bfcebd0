"""The fleet's HTTP listener (`qmpfleet serve --metrics`) for the metrics
and page tests: a fleet started with `--metrics 127.0.0.1:0`, the port it
got read from its log, and plain-socket HTTP helpers.

    with metrics_fleet(binary, limits={"http-request-timeout-ms": 500}) as fleet:
        status, headers, body = http_get(fleet.http_port, "/metrics")
"""
import contextlib
import os
import re
import socket
import time

from conftest import FLEET_QEMU_VERSION, PC_TEMPLATE, FleetProcess, _yaml_flow, fleet_yaml

#: How long the listener may take to appear in the log after the sockets.
LISTEN_TIMEOUT_SECONDS = 10.0
#: How long an HTTP exchange may take before the test fails.
HTTP_TIMEOUT_SECONDS = 5.0
#: vm0 runs (the plugin-free pc), blk0 has the block plugin (plugin reply times).
METRICS_VMS = [{"name": "vm0", "template": "pc"},
               {"name": "blk0", "template": "pc", "plugins": {"block": {"drives": [
                   {"id": "drive0", "device": "disk0", "interface": "virtio", "file": "/tmp/qf-disk0.qcow2",
                    "format": "qcow2", "size": "1G"}]}}}]


@contextlib.contextmanager
def metrics_fleet(binary, vms=METRICS_VMS, limits=None):
    """A fleet serving HTTP on 127.0.0.1 (a port the kernel picks); at the
    end it gets SIGTERM and must exit 0."""
    def config(socket_dir):
        text = fleet_yaml(socket_dir, {"pc": PC_TEMPLATE}, vms, FLEET_QEMU_VERSION)
        if limits:
            text += f"limits: {_yaml_flow(limits)}\n"
        return text

    fleet = FleetProcess.on_config(binary, [vm["name"] for vm in vms], config,
                                   extra_args=["--metrics", "127.0.0.1:0"])
    try:
        fleet.http_port = _listening_port(fleet)
        yield fleet
        code, left = fleet.terminate()
        assert code == 0, f"qmpfleet exited with {code}" + fleet.log_tail()
        assert left == [], f"socket files left behind: {left}"
    finally:
        fleet.kill()
        fleet.cleanup()


def _listening_port(fleet):
    deadline = time.monotonic() + LISTEN_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        with open(fleet.log, errors="replace") as f:
            match = re.search(r"fleet page on http://127\.0\.0\.1:(\d+)/", f.read())
        if match:
            return int(match.group(1))
        assert fleet.process.poll() is None, "qmpfleet exited" + fleet.log_tail()
        time.sleep(0.02)
    raise AssertionError("qmpfleet never said where it serves HTTP" + fleet.log_tail())


def http_connect(port):
    return socket.create_connection(("127.0.0.1", port), timeout=HTTP_TIMEOUT_SECONDS)


def read_until_closed(sock):
    """Everything the server sends until it closes (a reset counts as closed)."""
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data


def parse_response(data):
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, headers, body


def http_get(port, path, extra_headers=""):
    """One GET over a fresh connection, as curl does it: (status, headers, body)."""
    with http_connect(port) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: test\r\nAccept: */*\r\n"
                     f"{extra_headers}\r\n".encode())
        return parse_response(read_until_closed(sock))


def samples(text):
    """Prometheus text as {'name{labels}': value}."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        out[key] = float(value)
    return out
