"""The queries libvirt 9.0's capability probe sends (taken from its debug
log), sent to QEMU 7.2 and to qmpfleet-emulator, both started as libvirt
starts a probe (-machine none, -daemonize). Replies served from the data
recorded from QEMU 7.2 must be equal, byte for byte once parsed."""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import PC_TEMPLATE, fleet_binary, missing

QEMU = shutil.which("qemu-system-x86_64")

#: (command, arguments) as libvirt sends them, in its order.
PROBE = [
    ("device-list-properties", {"typename": name}) for name in (
        "virtio-blk-pci", "virtio-net-pci", "virtio-scsi-pci", "virtio-net-ccw", "vfio-pci", "scsi-hd", "ide-hd",
        "PIIX4_PM", "usb-redir", "usb-storage", "VGA", "qxl", "virtio-gpu-pci", "ICH9-LPC", "virtio-balloon-pci",
        "intel-iommu", "mch", "nvdimm", "pcie-root-port", "usb-host", "virtio-mem-pci", "virtio-iommu-pci",
        "no-such-device", "device")
] + [
    ("qom-list-properties", {"typename": name}) for name in (
        "memory-backend-file", "memory-backend-memfd", "max-x86_64-cpu", "none-machine", "no-such-type")
] + [
    ("query-cpu-definitions", None),
    ("query-cpu-model-expansion", {"type": "static", "model": {"name": "max"}}),
    ("query-cpu-model-expansion", {"type": "static", "model": {"name": "max", "props": {"migratable": False}}}),
    ("query-cpu-model-expansion", {"type": "static", "model": {"name": "no-such-model"}}),
    ("query-command-line-options", None),
    ("query-command-line-options", {"option": "option-rom"}),
    ("query-command-line-options", {"option": "no-such-option"}),
    ("query-sev-capabilities", None),
    ("query-sgx-capabilities", None),
    ("query-target", None),
    ("query-tpm-models", None),
    ("query-tpm-types", None),
    ("query-migrate-capabilities", None),
]


def start(binary, directory, name):
    path = os.path.join(directory, f"{name}.sock")
    pidfile = os.path.join(directory, f"{name}.pid")
    subprocess.run([binary, "-S", "-no-user-config", "-nodefaults", "-nographic", "-machine", "none,accel=tcg",
                    "-qmp", f"unix:{path},server=on,wait=off", "-pidfile", pidfile, "-daemonize"],
                   check=True, timeout=30, env=dict(os.environ, QMPFLEET_PLUGIN_DIR=os.path.dirname(binary)))
    return path, int(open(pidfile).read())


def ask(path, requests):
    """Replies to `requests`, then `quit` (which ends a probe's daemon)."""
    return ask_open(path, requests + [("quit", None)])[:-1]


def wait_gone(pid):
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_libvirt_probe_answers_equal_qemu_72():
    if QEMU is None:
        missing("qemu-system-x86_64 (QEMU 7.2) is not installed")
    binary = fleet_binary()
    if binary is None:
        missing("qmpfleet is not built")
    emulator = os.path.join(os.path.dirname(binary), "qmpfleet-emulator")
    directory = tempfile.mkdtemp(prefix="probe-", dir="/tmp")
    try:
        qemu_path, qemu_pid = start(QEMU, directory, "qemu")
        ours_path, ours_pid = start(emulator, directory, "ours")
        theirs, ours = ask(qemu_path, PROBE), ask(ours_path, PROBE)
        # Both daemons end on quit, as QEMU does.
        assert wait_gone(qemu_pid) and wait_gone(ours_pid)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    different = [(request, mine, real) for request, mine, real in zip(PROBE, ours, theirs) if mine != real]
    assert not different, different[:3]


# ----------------------------------------------- running-domain commands ----

#: What libvirt sends to a running domain that no plugin serves, on a pc
#: machine without balloon, VNC or SPICE: QEMU 7.2's replies and errors.
RUNNING = [
    ("query-mice", None),
    ("query-balloon", None),
    ("balloon", {"value": 536870912}),
    ("balloon", {"value": -1}),
    ("set_password", {"protocol": "vnc", "password": "secret"}),
    ("set_password", {"protocol": "vnc", "password": "secret", "connected": "fail"}),
    ("set_password", {"protocol": "spice", "password": "secret"}),
    ("set_password", {"protocol": "spice", "password": "secret", "display": "d"}),
    ("expire_password", {"protocol": "vnc", "time": "now"}),
    ("expire_password", {"protocol": "spice", "time": "+60"}),
    ("qom-set", {"path": "/no/such/path", "property": "x", "value": 1}),
    ("qom-set", {"path": "/machine", "property": "no-such-property", "value": 1}),
    ("qom-set", {"path": "/machine", "property": "type", "value": "x"}),
    ("qom-set", {"path": "/machine/unattached/device[0]", "property": "sse", "value": False}),
    ("qom-get", {"path": "/machine/unattached/device[0]", "property": "sse"}),
    ("query-target", None),
    ("query-kvm", None),
]

#: Commands libvirt uses on a running domain that a pc VM must have.
DOMAIN_COMMANDS = {
    "query-status", "query-cpus-fast", "query-iothreads", "query-balloon", "balloon", "qom-get", "qom-set",
    "set_password", "expire_password", "query-mice", "human-monitor-command", "qom-list", "query-commands",
}


def ask_open(path, requests):
    """Replies to `requests` after negotiation, leaving the VM running."""
    sock = socket.socket(socket.AF_UNIX)
    sock.connect(path)
    reader = sock.makefile("rb")
    json.loads(reader.readline())
    replies = []
    for command, arguments in [("qmp_capabilities", None)] + requests:
        message = {"execute": command}
        if arguments is not None:
            message["arguments"] = arguments
        sock.sendall(json.dumps(message).encode() + b"\n")
        while True:
            reply = json.loads(reader.readline())
            if "event" not in reply:
                replies.append(reply)
                break
    sock.close()
    return replies[1:]


def test_running_domain_commands_answer_as_qemu_72(qemu_vm, fleet_factory):
    theirs = ask_open(qemu_vm("pc").socket, RUNNING)
    fleet = fleet_factory()
    ours = ask_open(fleet.vm_socket("vm0"), RUNNING)
    different = [(request, mine, real) for request, mine, real in zip(RUNNING, ours, theirs) if mine != real]
    assert not different, different[:3]
    commands = {c["name"] for c in ask_open(fleet.vm_socket("vm0"), [("query-commands", None)])[0]["return"]}
    assert DOMAIN_COMMANDS <= commands, DOMAIN_COMMANDS - commands


def test_display_tablet_is_listed_as_qemu_72_lists_usb_tablet(qemu_vm, fleet_factory):
    theirs = ask_open(qemu_vm("pc,usb=on", extra=("-device", "usb-tablet")).socket, [("query-mice", None)])
    template = dict(PC_TEMPLATE, plugins={"display": {"tablet": True}})
    fleet = fleet_factory(templates={"pc": template})
    ours = ask_open(fleet.vm_socket("vm0"), [("query-mice", None)])
    assert ours == theirs
    assert len(ours[0]["return"]) == 2


#: Every plugin an x86 VM can have.
X86_PLUGINS = {name: {} for name in ("block", "net", "chardev", "tpm", "rocker", "memory", "cpu-hotplug", "dump",
                                      "display", "trace", "migration")}


def test_type_lists_equal_qemu_72_with_every_plugin(qemu_vm, fleet_factory):
    """qom-list-types in QEMU's own order is a hash table's: compare as sets."""
    requests = [("qom-list-types", None), ("qom-list-types", {"abstract": True}),
                ("qom-list-types", {"implements": "pci-device"}), ("qom-list-types", {"implements": "hotplug-handler"}),
                ("qom-list-types", {"implements": "device", "abstract": False}), ("query-machines", None)]
    theirs = ask_open(qemu_vm("pc").socket, requests)
    fleet = fleet_factory(templates={"pc": dict(PC_TEMPLATE, plugins=X86_PLUGINS)})
    ours = ask_open(fleet.vm_socket("vm0"), requests)
    for request, mine, real in zip(requests, ours, theirs):
        mine = {json.dumps(t, sort_keys=True) for t in mine["return"]}
        real = {json.dumps(t, sort_keys=True) for t in real["return"]}
        assert mine == real, (request, sorted(mine - real)[:5], sorted(real - mine)[:5])


def test_balloon_device_answers_as_qemu_72(qemu_vm, fleet_factory):
    """device_add of a virtio-balloon-pci, its limits, and query-balloon
    before the guest acts. QEMU has no guest OS: compare the first replies
    only, then check the simulated guest driver gets the balloon there."""
    requests = [("query-balloon", None), ("device_add", {"driver": "virtio-balloon-pci", "id": "bal0"}),
                ("device_add", {"driver": "virtio-balloon-pci", "id": "bal1"}),
                ("device_add", {"driver": "virtio-balloon-pci", "id": "bal2", "nosuch": 1}),
                ("query-balloon", None), ("balloon", {"value": 0}), ("balloon", {"value": 1 << 40})]
    theirs = ask_open(qemu_vm("pc", extra=("-m", "1G")).socket, requests)
    template = dict(PC_TEMPLATE, plugins={"balloon": {}})
    fleet = fleet_factory(templates={"pc": template})
    path = fleet.vm_socket("vm0")
    ours = ask_open(path, requests)
    assert ours == theirs
    ask_open(path, [("balloon", {"value": 536870912})])
    deadline = time.monotonic() + 5
    while ask_open(path, [("query-balloon", None)])[0]["return"]["actual"] != 536870912:
        assert time.monotonic() < deadline, "the simulated guest never reached the balloon target"
        time.sleep(0.1)


def test_vnc_passwords_answer_as_qemu_72(qemu_vm, fleet_factory):
    """A VNC server with password auth (`-vnc unix:...,password=on`, the
    display plugin's `vnc: {password: true}`) and one without."""
    requests = [("set_password", {"protocol": "vnc", "password": "secret"}),
                ("set_password", {"protocol": "vnc", "password": "secret", "display": "nope"}),
                ("set_password", {"protocol": "vnc", "password": "secret", "display": "default"}),
                ("set_password", {"protocol": "vnc", "password": "secret", "connected": "disconnect"}),
                ("set_password", {"protocol": "spice", "password": "secret"}),
                ("expire_password", {"protocol": "vnc", "time": "+60"}),
                ("expire_password", {"protocol": "vnc", "time": "bogus"}),
                ("expire_password", {"protocol": "vnc", "time": "never", "display": "nope"})]
    for password in (True, False):
        qemu = qemu_vm("pc", extra=("-vnc", f"unix:/tmp/pbvnc{os.getpid()},password={'on' if password else 'off'}"))
        theirs = ask_open(qemu.socket, requests)
        fleet = fleet_factory(templates={"pc": dict(PC_TEMPLATE, plugins={"display": {"vnc": {"password": password}}})})
        ours = ask_open(fleet.vm_socket("vm0"), requests)
        different = [(request, mine, real) for request, mine, real in zip(requests, ours, theirs) if mine != real]
        assert not different, (password, different[:3])
