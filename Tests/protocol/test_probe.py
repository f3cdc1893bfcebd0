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

from conftest import fleet_binary, missing

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
    sock = socket.socket(socket.AF_UNIX)
    sock.connect(path)
    reader = sock.makefile("rb")
    json.loads(reader.readline())
    replies = []
    for command, arguments in [("qmp_capabilities", None)] + requests + [("quit", None)]:
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
    return replies[1:-1]


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
