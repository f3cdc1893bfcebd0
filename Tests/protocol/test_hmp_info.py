"""What `qmp-shell -H` users and libvirt's HMP fallbacks read, against real
QEMU 7.2: `info block`, `info chardev`, `info cpus` and `info pci` through
human-monitor-command, on a VM with the default `pc` template's disk,
CD-ROM, NIC, serial pty and balloon, and on `qemu-system-x86_64` started
with the same devices. Each is compared as text after a device is added,
so the answer is the VM's state, not a recording.

What legitimately differs is replaced on both sides before comparing: the
automatic node names (`#block123`: a counter QEMU shares with every
object), the pty each serial port got, the vCPU's host thread id and the
compat monitor's chardev (QEMU's own `-qmp` socket; docs/qemu-differences.md).
"""
import os
import re
import shutil
import subprocess

import pytest

from conftest import FleetProcess, QemuProcess, QEMU_PROGRAM, missing, required_fleet_binary, short_tempdir
from qmp_raw import RawQMP

ISO_BYTES = 4 << 20


def template(directory):
    return {
        "machine": "pc-i440fx-7.2",
        "start-paused": True,
        "smp": {"cpus": 1, "sockets": 1, "cores": 4, "threads": 1, "maxcpus": 4},
        "memory": {"size": "1G", "slots": 4, "maxmem": "4G"},
        "plugins": {
            "block": {"drives": [
                {"id": "drive0", "device": "disk0", "interface": "virtio", "file": f"{directory}/disk0.qcow2",
                 "format": "qcow2", "size": "20G"},
                {"id": "cd0", "device": "cdrom0", "interface": "ide", "media": "cdrom", "file": f"{directory}/install.iso"},
            ]},
            "net": {"netdevs": [{"id": "net0", "type": "user"}], "nics": [{"id": "nic0", "model": "virtio-net-pci", "netdev": "net0"}]},
            "chardev": {},
            "balloon": {"device": "balloon0"},
        },
    }


def qemu_args(directory):
    return ["-m", "1G,slots=4,maxmem=4G", "-smp", "1,sockets=1,cores=4,threads=1,maxcpus=4",
            "-drive", f"file={directory}/disk0.qcow2,format=qcow2,if=none,id=drive0",
            "-device", "virtio-blk-pci,drive=drive0,id=disk0",
            "-drive", f"file={directory}/install.iso,format=raw,media=cdrom,if=none,id=cd0",
            "-device", "ide-cd,drive=cd0,id=cdrom0",
            "-netdev", "user,id=net0", "-device", "virtio-net-pci,netdev=net0,id=nic0",
            "-chardev", "pty,id=serial0", "-device", "isa-serial,chardev=serial0",
            "-device", "virtio-balloon-pci,id=balloon0"]


@pytest.fixture
def pair():
    """(QEMU's client, the fleet's client) for the same machine and devices."""
    if shutil.which(QEMU_PROGRAM) is None or shutil.which("qemu-img") is None:
        missing(f"{QEMU_PROGRAM} and qemu-img are needed")
    binary = required_fleet_binary()
    directory = short_tempdir("qh-")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", f"{directory}/disk0.qcow2", "20G"], check=True)
    with open(f"{directory}/install.iso", "wb") as iso:
        iso.truncate(ISO_BYTES)
    qemu = QemuProcess("pc", paused=True, extra=qemu_args(directory))
    fleet = FleetProcess(binary, {"pc": template(directory)}, [{"name": "vm0", "template": "pc"}])
    clients = RawQMP(qemu.socket), RawQMP(fleet.vm_socket("vm0"))
    for client in clients:
        client.negotiate()
    yield clients
    for process in (qemu, fleet):
        process.close()
    shutil.rmtree(directory, ignore_errors=True)


def hmp(client, line, **arguments):
    reply = client.execute("human-monitor-command", {"command-line": line, **arguments})
    return reply.get("return", reply)


def normalized(text):
    text = re.sub(r"#block\d+", "#blockN", text)
    text = re.sub(r"/dev/pts/\d+", "/dev/pts/N", text)
    text = re.sub(r"thread_id=\d+", "thread_id=N", text)
    text = re.sub(r"disk size: [^\r]*", "disk size: S", text)
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith("compat_monitor0:"))


def compare(clients, line, **arguments):
    want, have = (normalized(hmp(client, line, **arguments)) for client in clients)
    assert have == want, line
    return have


def both(clients, command, arguments=None):
    want, have = (client.execute(command, arguments) for client in clients)
    assert have == want, (command, arguments)


LINES = ["info block", "info block cd0", "info block drive0", "info block nosuch", "info block -n",
         "info block -v", "info block drive0 x", "info chardev", "info cpus", "info pci",
         "info pci x", "info cpus 1", "info chardev serial0", "info status"]


@pytest.mark.parametrize("line", LINES)
def test_info_text_is_qemus(pair, line):
    compare(pair, line)


def test_info_follows_devices_added(pair):
    both(pair, "chardev-add", {"id": "c1", "backend": {"type": "null", "data": {}}})
    both(pair, "chardev-add", {"id": "a2", "backend": {"type": "ringbuf", "data": {}}})
    assert "a2: filename=ringbuf" in compare(pair, "info chardev")
    both(pair, "chardev-remove", {"id": "c1"})
    assert "c1:" not in compare(pair, "info chardev")

    both(pair, "blockdev-add", {"driver": "null-co", "node-name": "n1", "size": 1048576})
    both(pair, "blockdev-add", {"driver": "null-co", "node-name": "n2"})
    assert "n1: json:" in compare(pair, "info block n1")
    assert "n2: null-co://" in compare(pair, "info block -n n2")
    both(pair, "block_set_io_throttle", {"device": "drive0", "bps": 1000000, "bps_rd": 0, "bps_wr": 0, "iops": 0,
                                         "iops_rd": 50, "iops_wr": 0})
    assert "I/O throttling:" in compare(pair, "info block drive0")
    both(pair, "eject", {"device": "cd0", "force": True})
    assert "cd0: [not inserted]" in compare(pair, "info block cd0")

    both(pair, "device_add", {"driver": "e1000", "id": "nic9"})
    both(pair, "device_add", {"driver": "virtio-net-pci", "id": "nic8", "addr": "0x9"})
    assert 'id "nic9"' in compare(pair, "info pci")


def test_monitor_cpu_is_starred(pair):
    assert compare(pair, "info cpus", **{"cpu-index": 0}).startswith("* CPU #0:")
    want, have = (client.execute("human-monitor-command", {"command-line": "info cpus", "cpu-index": 3}) for client in pair)
    assert have == want


def test_null_node_size_and_resize_are_qemus(pair):
    both(pair, "blockdev-add", {"driver": "null-co", "node-name": "m5", "size": 1000, "read-zeroes": False})
    both(pair, "blockdev-add", {"driver": "null-aio", "node-name": "m3", "size": 0})
    both(pair, "blockdev-add", {"driver": "null-co", "node-name": "m2", "read-only": True})
    both(pair, "blockdev-add", {"driver": "null-co", "node-name": "m1", "latency-ns": 5})
    both(pair, "blockdev-add", {"driver": "raw", "node-name": "r1", "file": "m1"})
    for node in ("m5", "m3", "m2", "m1", "r1"):
        both(pair, "block_resize", {"node-name": node, "size": 2097152})
    nodes = [client.execute("query-named-block-nodes")["return"] for client in pair]
    want, have = ({n["node-name"]: n for n in listed if n["node-name"] in ("m5", "m3", "m2", "m1", "r1")} for listed in nodes)
    assert have == want


def test_chardevs_are_listed_in_qemus_order_through_adds_and_removes(pair):
    """query-chardev walks QEMU's hash table of /chardevs (compat_monitor0,
    QEMU's -qmp, among them though not listed by the fleet)."""
    def listed(client):
        return [c for c in client.execute("query-chardev")["return"] if c["label"] != "compat_monitor0"]

    def pty_free(entries):
        return [dict(c, filename=re.sub(r"/dev/pts/\d+", "/dev/pts/N", c["filename"])) for c in entries]

    steps = [("chardev-add", {"id": f"c{n}", "backend": {"type": "null", "data": {}}}) for n in range(12)]
    steps += [("chardev-remove", {"id": f"c{n}"}) for n in (3, 0, 7, 11)]
    steps += [("chardev-add", {"id": name, "backend": {"type": "ringbuf", "data": {}}}) for name in ("c7", "zz", "a.b")]
    steps += [("chardev-change", {"id": "c5", "backend": {"type": "ringbuf", "data": {}}})]
    for command, arguments in steps:
        both(pair, command, arguments)
        want, have = (pty_free(listed(client)) for client in pair)
        assert have == want, (command, arguments)
    compare(pair, "info chardev")


def test_info_network_follows_netdevs_and_nics(pair):
    """The net plugin prints it (register_hmp_info): hubs first, then NICs
    with their backends and lone backends in creation order."""
    compare(pair, "info network")
    steps = [("netdev_add", {"id": "u2", "type": "user", "net": "192.168.5.7/24", "restrict": True}),
             ("netdev_add", {"id": "u3", "type": "user", "net": "172.16.0.0"}),
             ("netdev_add", {"id": "h1", "type": "hubport", "hubid": 0}),
             ("device_add", {"driver": "e1000", "id": "nic9", "netdev": "u2"}),
             ("device_add", {"driver": "rtl8139"}),
             ("netdev_add", {"id": "u4", "type": "user"}),
             ("device_add", {"driver": "virtio-net-pci", "id": "nic7", "netdev": "u4", "mac": "02:00:00:AA:bb:01"}),
             ("netdev_del", {"id": "u4"}),
             ("netdev_del", {"id": "u3"})]
    for command, arguments in steps:
        both(pair, command, arguments)
        compare(pair, "info network")
    compare(pair, "info network x")
