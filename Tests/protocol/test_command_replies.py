"""Issue 18: every QEMU 7.2 command, sent to a simulated pc VM and to real
QEMU 7.2 (`qemu-system-x86_64 -machine pc -nodefaults -S`), gets the same
kind of reply: both `return`, or both `error` with the same class and text.

The arguments are the table in data/command-arguments.json: minimal valid
ones (every required member) or those of the command's QAPI example, with
`@DIR@` standing for a private directory for the files some commands write.
The commands run in the table's order on one VM per side, so a command that
changes state (block-export-add after nbd-server-start, blockdev-add then
x-debug-query-block-graph) is checked against the state earlier ones left;
the run-state changers go last, `quit` at the very end.

The simulated VM is the counterpart of the QEMU command line: the pc board,
128 MiB, one vCPU, every device plugin loaded with no device configured.
"""
import json
import os
import shutil

import pytest

from conftest import FleetProcess, QemuProcess, required_fleet_binary, short_tempdir, QEMU_PROGRAM, missing
from qmp_raw import RawQMP
from test_command_set import recorded

ARGUMENTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "command-arguments.json")

#: Changers of the run state, in this order after everything else.
LAST = ["stop", "cont", "system_wakeup", "system_reset", "system_powerdown", "quit"]

#: Where the reply must differ, and why.
MUST_DIFFER = {
}

PLUGINS = {name: {} for name in ("block", "net", "chardev", "memory", "cpu-hotplug", "tpm", "rocker", "dump",
                                 "display", "trace", "migration", "balloon", "replay", "colo")}
BARE_PC = {
    "machine": "pc-i440fx-7.2",
    "start-paused": True,
    "no-shutdown": True,
    "smp": {"cpus": 1, "sockets": 1, "cores": 1, "threads": 1, "maxcpus": 1},
    "memory": {"size": "128M"},
    # -nodefaults: no video device, so no console.
    "plugins": dict(PLUGINS, display={"enabled": False}),
}


def arguments(directory):
    with open(ARGUMENTS) as f:
        text = f.read().replace("@DIR@", directory)
    return json.loads(text)


def order(commands):
    return sorted(c for c in commands if c not in LAST) + [c for c in LAST if c in commands]


def summary(reply, directory):
    if reply is None:
        return ("closed",)
    if "return" in reply:
        return ("return",)
    return ("error", reply["error"]["class"], reply["error"]["desc"].replace(directory, "@DIR@"))


def run_all(path, table, commands):
    client = RawQMP(path)
    client.negotiate()
    replies = {}
    for name in commands:
        try:
            replies[name] = client.execute(name, table[name])
        except (ConnectionError, OSError, EOFError, TimeoutError):
            replies[name] = None
    client.close()
    return replies


#: Machine -> (QEMU arch, the bare template of the simulated counterpart).
MACHINES = {
    "pc": (None, BARE_PC),
    "q35": (None, dict(BARE_PC, machine="pc-q35-7.2")),
    "virt": ("aarch64", dict(BARE_PC, machine="virt-7.2", arch="aarch64", plugins=dict(BARE_PC["plugins"], gic={}))),
}


@pytest.mark.parametrize("machine", sorted(MACHINES))
def test_every_command_replies_as_qemu_7_2(machine):
    arch, template = MACHINES[machine]
    program = f"qemu-system-{arch}" if arch else QEMU_PROGRAM
    if shutil.which(program) is None:
        missing(f"{program} is not installed (scripts/install-deps)")
    binary = required_fleet_binary()
    commands = order(set(recorded()["machines"][machine]["commands"]))
    qemu_dir, fleet_dir = short_tempdir("qa-"), short_tempdir("fa-")
    qemu = QemuProcess(machine, paused=True, arch=arch)
    fleet = FleetProcess(binary, {"pc": template}, [{"name": "vm0", "template": "pc"}])
    try:
        want = run_all(qemu.socket, arguments(qemu_dir), commands)
        have = run_all(fleet.vm_socket("vm0"), arguments(fleet_dir), commands)
    finally:
        qemu.close()
        fleet.close()
        shutil.rmtree(qemu_dir, ignore_errors=True)
        shutil.rmtree(fleet_dir, ignore_errors=True)
    differ = []
    for name in commands:
        if (machine, name) in MUST_DIFFER:
            continue
        qemu_reply, fleet_reply = summary(want[name], qemu_dir), summary(have[name], fleet_dir)
        if qemu_reply != fleet_reply:
            differ.append(f"{name}: QEMU {qemu_reply}, fleet {fleet_reply}")
    assert not differ, f"{len(differ)} of {len(commands)} differ:\n" + "\n".join(differ)


#: State that the 7.2 commands change, then read back: the whole reply and
#: the events each command causes must be QEMU's (the directory as @DIR@).
STATEFUL = [
    ("blockdev-add", {"driver": "null-co", "node-name": "null0"}),
    ("nbd-server-start", {"addr": {"type": "unix", "data": {"path": "@DIR@/nbd.sock"}}}),
    ("nbd-server-start", {"addr": {"type": "unix", "data": {"path": "@DIR@/nbd2.sock"}}}),
    ("block-export-add", {"type": "nbd", "id": "exp0", "node-name": "null0"}),
    ("block-export-add", {"type": "nbd", "id": "exp0", "node-name": "null0"}),
    ("nbd-server-add", {"device": "null0", "name": "n2"}),
    ("query-block-exports", None),
    ("block-export-del", {"id": "exp0"}),
    ("nbd-server-stop", None),
    ("query-block-exports", None),
    ("blockdev-create", {"job-id": "c0", "options": {"driver": "file", "filename": "@DIR@/new.img", "size": 1048576}}),
    ("snapshot-save", {"job-id": "s0", "tag": "t", "vmstate": "null0", "devices": ["null0"]}),
    ("query-jobs", None),
    ("job-dismiss", {"id": "c0"}),
    ("query-jobs", None),
    ("x-debug-query-block-graph", None),
    ("query-replay", None), ("query-colo-status", None), ("query-sev", None), ("query-spice", None),
    ("query-vnc-servers", None), ("query-vcpu-dirty-limit", None), ("x-query-numa", None),
    ("x-query-ramblock", None), ("x-query-roms", None), ("query-pci", None), ("x-query-virtio", None),
    ("query-pr-managers", None), ("query-xen-replication-status", None),
]


#: A VNC server without a listener (`-vnc none,password=on`): the password
#: and the addresses display-update gives, as the queries report them.
VNC = [
    ("query-vnc-servers", None), ("query-vnc", None),
    ("change-vnc-password", {"password": "secret"}),
    ("display-reload", {"type": "vnc", "tls-certs": True}),
    ("display-update", {"type": "vnc", "addresses": [{"type": "unix", "path": "@DIR@/vnc.sock"}]}),
    ("query-vnc-servers", None), ("query-vnc", None),
    ("client_migrate_info", {"protocol": "spice", "hostname": "h", "port": 1}),
    ("query-spice", None),
]


def run_stateful(path, directory, sequence=STATEFUL):
    client = RawQMP(path)
    client.negotiate()
    results = []
    for name, args in sequence:
        if args is not None:
            args = json.loads(json.dumps(args).replace("@DIR@", directory))
        reply = client.execute(name, args)
        # Jobs end in a later main-loop turn: their events come after the reply.
        events = [(e["event"], e.get("data")) for e in client.take_events() + client.drain(0.1)]
        results.append((name, json.loads(json.dumps(reply).replace(directory, "@DIR@")), events))
    client.close()
    return results


def test_new_commands_change_state_as_qemu_7_2():
    if shutil.which(QEMU_PROGRAM) is None:
        missing(f"{QEMU_PROGRAM} is not installed")
    binary = required_fleet_binary()
    qemu_dir, fleet_dir = short_tempdir("qa-"), short_tempdir("fa-")
    qemu = QemuProcess("pc", paused=True)
    fleet = FleetProcess(binary, {"pc": BARE_PC}, [{"name": "vm0", "template": "pc"}])
    try:
        want = run_stateful(qemu.socket, qemu_dir)
        have = run_stateful(fleet.vm_socket("vm0"), fleet_dir)
        created = os.path.getsize(os.path.join(fleet_dir, "new.img"))
    finally:
        qemu.close()
        fleet.close()
        shutil.rmtree(qemu_dir, ignore_errors=True)
        shutil.rmtree(fleet_dir, ignore_errors=True)
    differ = [f"{w[0]}: QEMU {w[1:]}, fleet {h[1:]}" for w, h in zip(want, have) if w != h]
    assert not differ, "\n".join(differ)
    assert created == 1048576


def test_vnc_server_state_as_qemu_7_2():
    if shutil.which(QEMU_PROGRAM) is None:
        missing(f"{QEMU_PROGRAM} is not installed")
    binary = required_fleet_binary()
    qemu_dir, fleet_dir = short_tempdir("qa-"), short_tempdir("fa-")
    qemu = QemuProcess("pc", paused=True, extra=["-vnc", "none,password=on"])
    template = dict(BARE_PC, plugins=dict(PLUGINS, display={"enabled": False, "vnc": {"password": True}}))
    fleet = FleetProcess(binary, {"pc": template}, [{"name": "vm0", "template": "pc"}])
    try:
        want = run_stateful(qemu.socket, qemu_dir, VNC)
        have = run_stateful(fleet.vm_socket("vm0"), fleet_dir, VNC)
    finally:
        qemu.close()
        fleet.close()
        shutil.rmtree(qemu_dir, ignore_errors=True)
        shutil.rmtree(fleet_dir, ignore_errors=True)
    differ = [f"{w[0]}: QEMU {w[1:]}, fleet {h[1:]}" for w, h in zip(want, have) if w != h]
    assert not differ, "\n".join(differ)
