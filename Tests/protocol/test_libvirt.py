"""libvirt 9.0 manages a simulated VM: Tests/libvirt/run.sh drives virsh
(the embedded QEMU driver, and a real libvirtd serving qemu:///system)
through define, start, suspend/resume,
block listing, CD-ROM eject/insert, disk hot-plug and unplug, a monitor
command, destroy and a guest shutdown, once with real QEMU 7.2 and once
with qmpfleet-emulator as the domain's <emulator>, and once more with the
emulator handing its VM to a running fleet (QMPFLEET_CONTROL). Every step must give
what it gives with QEMU, except the two that need a guest OS: real QEMU
with an empty disk never answers ACPI (no unplug, no power-off), while the
simulated guest does, as a booted Linux would."""
import os
import shutil
import subprocess
import tempfile
import time

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


def run(emulator_path, control=None, mode="embed"):
    env = dict(os.environ, EMULATOR=emulator_path, MODE=mode)
    if control:
        env["QMPFLEET_CONTROL"] = control
    result = subprocess.run(["bash", SCRIPT], env=env,
                            capture_output=True, text=True, timeout=300)
    steps = {}
    for line in result.stdout.splitlines():
        name, _, outcome = line.partition(": ")
        steps[name] = outcome
    assert steps, result.stdout + result.stderr
    return steps


def require_libvirt_and_qemu():
    """virsh, root (the embedded driver) and QEMU 7.2, or the reason why not."""
    if shutil.which("virsh") is None:
        missing("libvirt is not installed (apt-get install libvirt-daemon-driver-qemu libvirt-clients)")
    if os.geteuid() != 0:
        pytest.skip("libvirt's embedded QEMU driver needs root here")
    if QEMU is None:
        missing("qemu-system-x86_64 (QEMU 7.2) is not installed")


@pytest.fixture(scope="module")
def outcomes():
    require_libvirt_and_qemu()
    return run(QEMU), run(emulator())


@pytest.fixture(scope="module")
def system_outcomes():
    """The same steps under a real libvirtd (qemu:///system): libvirt then
    keeps each domain's files in /var/lib/libvirt/qemu/domain-N-NAME (the
    master key the emulator must read among them) and starts the emulator
    from the daemon, as on every distribution."""
    require_libvirt_and_qemu()
    if shutil.which("libvirtd") is None:
        missing("libvirtd is not installed (apt-get install libvirt-daemon)")
    return run(QEMU, mode="system"), run(emulator(), mode="system")


def control_call(path, *commands):
    """Runs control commands on a fleet's fleet.qmp; returns their replies."""
    import json
    import socket
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(path)
        f = s.makefile("rwb")
        f.readline()
        replies = []
        for command in ("qmp_capabilities",) + commands:
            f.write(json.dumps({"execute": command}).encode() + b"\n")
            f.flush()
            replies.append(json.loads(f.readline()))
        return replies[1:]


@pytest.fixture(scope="module")
def fleet_outcome(outcomes):
    """The script again, the VM handed to a running `qmpfleet serve`."""
    directory = tempfile.mkdtemp(prefix="lvf", dir="/tmp")
    config = os.path.join(directory, "fleet.yaml")
    with open(config, "w") as f:
        f.write("vms: []\n")
    sockets = os.path.join(directory, "s")
    log = open(os.path.join(directory, "fleet.log"), "w+")
    fleet = subprocess.Popen([fleet_binary(), "serve", "--config", config, "--socket-dir", sockets,
                              "--log-level", "info"], stderr=log)
    control = os.path.join(sockets, "fleet.qmp")
    try:
        for _ in range(100):
            if os.path.exists(control):
                break
            time.sleep(0.05)
        steps = run(emulator(), control)
        remaining = control_call(control, "query-vms")[0]["return"]
        log.seek(0)
        return steps, remaining, log.read()
    finally:
        fleet.terminate()
        fleet.wait(timeout=10)
        log.close()
        shutil.rmtree(directory, ignore_errors=True)


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


def test_under_the_system_daemon_every_step_succeeds(system_outcomes):
    _, ours = system_outcomes
    failed = {name: outcome for name, outcome in ours.items() if not outcome.startswith("0")}
    assert not failed


def test_under_the_system_daemon_each_step_gives_what_qemu_gives(system_outcomes):
    theirs, ours = system_outcomes
    assert list(ours) == list(theirs)
    different = {name: (ours[name], theirs[name]) for name in ours
                 if name not in GUEST_STEPS and ours[name] != theirs[name]}
    assert not different
    for name, expected in GUEST_STEPS.items():
        assert ours[name] == expected


def test_a_vm_handed_to_a_fleet_gives_the_same_steps(outcomes, fleet_outcome):
    _, ours = outcomes
    steps, remaining, log = fleet_outcome
    assert steps == ours
    # The domain ran in the fleet (twice: started again after destroy).
    assert log.count("VM citest ended") == 2, log
    # Every VM the emulator handed over ended with its process.
    assert remaining == []


# ------------------------------------------------ capability probe ----

CAPS_SCRIPT = os.path.join(REPO_ROOT, "Tests", "libvirt", "caps.sh")

#: Capability flags libvirt 9.0 sets for QEMU 7.2 that the simulation does
#: not earn yet, with why (each needs a feature to be really served). Since
#: issue 18 every 7.2 command is there, so libvirt sets every flag QEMU's
#: probe earns (block-export-add, nbd-tls and nbd-bitmap come from the
#: NBD/export commands, whose server keeps state but serves no NBD client).
KNOWN_MISSING_FLAGS = {}


def caps(emulator_path):
    result = subprocess.run(["bash", CAPS_SCRIPT], env=dict(os.environ, EMULATOR=emulator_path),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    items = [line.partition(" ") for line in result.stdout.splitlines()]
    flags = {value for kind, _, value in items if kind == "flag"}
    info = {kind: value for kind, _, value in items if kind != "flag"}
    return flags, info


@pytest.fixture(scope="module")
def capabilities():
    require_libvirt_and_qemu()
    return caps(QEMU), caps(emulator())


def test_libvirt_finds_qemu_72s_capabilities(capabilities):
    """libvirt's probe of the emulator sets the flags it sets for QEMU 7.2
    (they decide how it talks to the VM: -device/-object JSON,
    blockdev-reopen, incremental backup, ...), bar the known gaps, and no
    flag QEMU does not earn."""
    (theirs, _), (ours, _) = capabilities
    assert ours - theirs == set()
    assert theirs - ours == set(KNOWN_MISSING_FLAGS)


def test_libvirt_records_qemu_72s_version_and_package(capabilities):
    (_, theirs), (_, ours) = capabilities
    assert ours == theirs
    assert ours["package"].startswith("Debian")
