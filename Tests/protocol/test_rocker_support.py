"""Helpers for the rocker, TPM and GIC protocol tests, next to conftest's
QemuProcess (real QEMU 7.2 with chosen devices, any target) and the built
qmpfleet from test_netchar_support."""
import shutil
import subprocess
import tempfile

from conftest import wait_for_paths


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
        wait_for_paths([self.socket], self.proc)

    def close(self):
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
