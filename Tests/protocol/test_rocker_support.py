"""Helpers for the rocker, TPM and GIC protocol tests: real QEMU 7.2 with
chosen devices (any target), next to the built qmpfleet from
test_netchar_support."""
import os
import shutil
import subprocess
import tempfile

from test_netchar_support import wait_for


class QemuWith:
    """qemu-system-<arch> -S with `args`, for comparisons."""

    def __init__(self, args, arch="x86_64"):
        self.dir = tempfile.mkdtemp(prefix="trgq-", dir="/tmp")
        self.socket = f"{self.dir}/q.sock"
        self.proc = subprocess.Popen([f"qemu-system-{arch}", "-accel", "tcg", "-S", "-nodefaults", "-display", "none"]
                                     + args + ["-qmp", f"unix:{self.socket},server=on,wait=off"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self.socket)

    def close(self):
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def have(program):
    return shutil.which(program) is not None


class Swtpm:
    """swtpm behind a unix socket, for a real QEMU's tpm-emulator backend."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="trgtpm-", dir="/tmp")
        self.socket = f"{self.dir}/swtpm.sock"
        self.proc = subprocess.Popen(["swtpm", "socket", "--tpmstate", f"dir={self.dir}", "--tpm2",
                                      "--ctrl", f"type=unixio,path={self.socket}"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self.socket)

    def close(self):
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
