"""libvirt 9.0 manages a simulated VM: Tests/libvirt/run.sh drives virsh
(embedded QEMU driver, no daemon) through define, start, suspend/resume,
block listing, CD-ROM eject/insert, disk hot-plug and unplug, a monitor
command, destroy and a guest shutdown, once with real QEMU 7.2 and once
with qmpfleet-emulator as the domain's <emulator>. Every step must give
what it gives with QEMU, except the two that need a guest OS: real QEMU
with an empty disk never answers ACPI (no unplug, no power-off), while the
simulated guest does, as a booted Linux would."""
import os
import shutil
import subprocess

import pytest

from conftest import REPO_ROOT, fleet_binary, missing

SCRIPT = os.path.join(REPO_ROOT, "Tests", "libvirt", "run.sh")
QEMU = shutil.which("qemu-system-x86_64")

#: Steps whose outcome depends on a guest OS (see the module doc).
GUEST_STEPS = {
    "domblklist-detached": "0  vda W/disk.img| hdc W/cd2.iso|",
    "shutdown": "0 event 'lifecycle' for domain 'citest': Shutdown Finished after guest request|"
                "event 'lifecycle' for domain 'citest': Stopped Shutdown|event loop timed out|events received: 2|shut off|",
}


def emulator():
    binary = fleet_binary()
    if binary is None:
        missing("qmpfleet is not built")
    path = os.path.join(os.path.dirname(binary), "qmpfleet-emulator")
    if not os.access(path, os.X_OK):
        missing(f"{path} is not built")
    return path


def run(emulator_path):
    result = subprocess.run(["bash", SCRIPT], env=dict(os.environ, EMULATOR=emulator_path),
                            capture_output=True, text=True, timeout=300)
    steps = {}
    for line in result.stdout.splitlines():
        name, _, outcome = line.partition(": ")
        steps[name] = outcome
    assert steps, result.stdout + result.stderr
    return steps


@pytest.fixture(scope="module")
def outcomes():
    if shutil.which("virsh") is None:
        missing("libvirt is not installed (apt-get install libvirt-daemon-driver-qemu libvirt-clients)")
    if os.geteuid() != 0:
        pytest.skip("libvirt's embedded QEMU driver needs root here")
    if QEMU is None:
        missing("qemu-system-x86_64 (QEMU 7.2) is not installed")
    return run(QEMU), run(emulator())


def test_every_step_succeeds_on_the_simulated_vm(outcomes):
    _, ours = outcomes
    failed = {name: outcome for name, outcome in ours.items() if not outcome.startswith("0")}
    assert not failed


def test_each_step_gives_what_qemu_gives(outcomes):
    theirs, ours = outcomes
    assert list(ours) == list(theirs)
    different = {name: (ours[name], theirs[name]) for name in ours
                 if name not in GUEST_STEPS and ours[name] != theirs[name]}
    assert not different


def test_the_simulated_guest_unplugs_and_powers_off(outcomes):
    _, ours = outcomes
    for name, expected in GUEST_STEPS.items():
        assert ours[name] == expected
