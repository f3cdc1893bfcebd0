"""Every command of the seed (data/seed-commands.txt, data/seed-examples.json) through
qemu.qmp against the built qmpfleet: each example request the seed shows is
sent, in the seed's order, to a VM configured to fit it, and the reply must
have the shape of the seed's example reply. No seed command may answer
CommandNotFound. Failures are collected and reported together, each with
the plugin that serves the command, so a missing plugin reads as such.

Where QEMU 7.2 answers a seed example with an error (the seed is 2.8/2.9's
text), QEMU wins: those examples are listed in QEMU_WINS with 7.2's error.
"""
import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import warnings

from qemu.qmp import Message

from conftest import FleetProcess, required_fleet_binary
from test_netchar_support import connect, run

# The seed: QEMU 2.8/2.9's docs/qmp-commands.txt, as data. Its 76 command
# names, and every "->" example with the "<-" reply that follows it
# (heading, request, reply), extracted once from the text.
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
SEED_EXAMPLES = os.path.join(DATA, "seed-examples.json")
SEED_COMMANDS = os.path.join(DATA, "seed-commands.txt")

# Which plugin serves each seed command (core commands are not listed).
PLUGIN_OF = {
    "eject": "block", "block_resize": "block", "block-stream": "block", "block-commit": "block",
    "drive-backup": "block", "blockdev-backup": "block", "block-dirty-bitmap-add": "block",
    "block-dirty-bitmap-remove": "block", "block-dirty-bitmap-clear": "block",
    "blockdev-snapshot-sync": "block", "blockdev-snapshot": "block",
    "blockdev-snapshot-internal-sync": "block", "blockdev-snapshot-delete-internal-sync": "block",
    "drive-mirror": "block", "blockdev-mirror": "block", "change-backing-file": "block",
    "block_passwd": "block", "block_set_io_throttle": "block", "query-block": "block",
    "query-blockstats": "block", "blockdev-add": "block", "x-blockdev-del": "block",
    "blockdev-open-tray": "block", "blockdev-close-tray": "block", "x-blockdev-remove-medium": "block",
    "x-blockdev-insert-medium": "block", "x-blockdev-change": "block", "query-named-block-nodes": "block",
    "blockdev-change-medium": "block", "block-set-write-threshold": "block",
    "netdev_add": "net", "netdev_del": "net", "query-rx-filter": "net",
    "chardev-add": "chardev", "chardev-remove": "chardev",
    "query-tpm": "tpm", "query-tpm-models": "tpm", "query-tpm-types": "tpm",
    "query-rocker": "rocker", "query-rocker-ports": "rocker", "query-rocker-of-dpa-flows": "rocker",
    "query-rocker-of-dpa-groups": "rocker", "query-gic-capabilities": "gic",
    "query-memdev": "memory", "query-memory-devices": "memory", "query-acpi-ospm-status": "memory",
    "cpu": "cpu-hotplug", "query-hotpluggable-cpus": "cpu-hotplug",
    "screendump": "display", "send-key": "display", "input-send-event": "display",
    "dump-guest-memory": "dump", "query-dump": "dump", "query-dump-guest-memory-capability": "dump",
    "dump-skeys": "dump", "trace-event-get-state": "trace", "trace-event-set-state": "trace",
    "xen-load-devices-state": "migration", "xen-set-global-dirty-log": "migration",
    "migrate-set-cache-size": "migration", "x-colo-lost-heartbeat": "migration",
}

# Seed examples that QEMU 7.2 refuses: (command, 7.2's error text).
QEMU_WINS = {
    # Sent after negotiation (qemu.qmp negotiates first), as QEMU answers it.
    ("qmp_capabilities", "Capabilities negotiation is already complete, command ignored"),
    # 7.2 made 'paging' mandatory; the seed's example omits it.
    ("dump-guest-memory", "Parameter 'paging' is missing"),
    # The seed passes the boolean as a string.
    ("trace-event-set-state", "Invalid parameter type for 'enable', expected: boolean"),
    # Netdev's dnssearch is a list of String in 7.2; the seed passes a string.
    ("netdev_add", "Invalid parameter type for 'dnssearch', expected: array"),
    # COLO is not running on a VM that never migrated.
    ("x-colo-lost-heartbeat", "The feature 'colo' is not enabled"),
}

# Members the seed's replies show that QEMU 7.2 does not have: left out of
# the shape comparison.
QEMU_WINS_SHAPE = {
    # 7.2's ImageInfo calls it "backing-filename" (which the fleet sends).
    ("query-named-block-nodes", "image.backing_file"),
} | {
    # bdrv_block_device_info() gets no BlockBackend for named nodes, so 7.2
    # never reports I/O limits there (and omits zero *_max members anyway).
    ("query-named-block-nodes", member)
    for member in ("bps_max", "bps_rd_max", "bps_wr_max", "iops_max", "iops_rd_max", "iops_wr_max", "iops_size")
}

# Commands that only exist on another target: sent to that VM.
ROUTE = {"query-gic-capabilities": "arm0", "dump-skeys": "s390"}

# vm0's plugins and the config each needs for the seed's examples.
VM0_PLUGINS = {
    # The drives the seed's examples name, by backend (and node) name.
    "block": "{drives: ["
             "{id: drive0, interface: virtio, file: /img/drive0.qcow2, format: qcow2, size: 1G, "
             "backing: [{file: /img/base0.qcow2, format: qcow2}], snapshots: [snapshot1]}, "
             "{id: virtio0, interface: virtio, file: /img/virtio0.qcow2, format: qcow2, size: 1G, "
             "backing: [{file: /img/base.qcow2, format: qcow2}]}, "
             "{id: ide-hd0, interface: ide, file: /img/ide-hd0.qcow2, format: qcow2, size: 1G}, "
             "{id: ide0-hd0, interface: virtio, file: /img/ide0-hd0.qcow2, format: qcow2, size: 1G}, "
             "{id: scratch, interface: virtio, file: /img/scratch.raw, size: 1G}, "
             "{id: src-id, interface: virtio, file: /img/src.raw, size: 1G}, "
             "{id: mydisk, node-name: mydev, interface: virtio, file: /img/mydev.raw, size: 1G}, "
             "{id: cd0, device: ide0-1-0, media: cdrom, interface: ide, file: /img/cd.iso}, "
             "{id: fd0, device: floppyA, interface: floppy, file: /img/floppy.img, size: 1440K}]}",
    "net": "{}",
    "chardev": "{}",
    "memory": "{}",
    "cpu-hotplug": "{}",
    "tpm": "{backends: [{id: tpm0, type: passthrough, path: /dev/tpm0, "
           "cancel-path: /sys/class/misc/tpm0/device/cancel, model: tpm-tis}]}",
    "rocker": "{switches: [{name: sw1, len-ports: 2}]}",
    "dump": "{}",
    "display": "{device: video0, tablet: true}",
    "trace": "{}",
    "migration": "{}",
}


def plugin_library(name):
    return os.path.join(os.path.dirname(required_fleet_binary()), f"libqmp-{name}.so")


def unavailable_plugins():
    """Plugins whose library is missing or not a plugin yet (no entry point)."""
    missing = {}
    for name in list(VM0_PLUGINS) + ["gic"]:
        path = plugin_library(name)
        if not os.path.exists(path):
            missing[name] = f"{path} is not built"
            continue
        symbols = subprocess.run(["nm", "-D", "--defined-only", path], capture_output=True, text=True).stdout
        if "qmp_plugin_entry" not in symbols:
            missing[name] = f"{os.path.basename(path)} has no qmp_plugin_entry (plugin not written yet)"
    return missing


def fleet_yaml(socket_dir, skip):
    plugins = "".join(f"      {name}: {config}\n" for name, config in VM0_PLUGINS.items() if name not in skip)
    arm = "{gic: {}}" if "gic" not in skip else "{}"
    return (f"socket-dir: {socket_dir}\n"
            "vms:\n"
            "  - name: vm0\n"
            "    machine: pc\n"
            "    memory: {size: 1G, slots: 4, maxmem: 4G}\n"
            "    smp: {cpus: 1, sockets: 1, cores: 4, threads: 1, maxcpus: 4}\n"
            "    plugins:\n" + plugins +
            f"  - {{name: arm0, arch: aarch64, machine: virt, plugins: {arm}}}\n"
            "  - {name: s390, arch: s390x, machine: s390-ccw-virtio, plugins: {dump: {}}}\n")


def seed_examples(path=SEED_EXAMPLES):
    """(heading, request, reply-or-None) for every "->" example of the seed, in order."""
    with open(path, encoding="utf-8") as f:
        return [(e["heading"], e["request"], e["reply"]) for e in json.load(f)]


def seed_commands(path=SEED_COMMANDS):
    with open(path, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip()]


def same_shape(example, got):
    if isinstance(example, dict):
        return isinstance(got, dict) and all(k in got and same_shape(v, got[k]) for k, v in example.items())
    if isinstance(example, list):
        # An empty list is the right answer for a VM without the seed's
        # devices; a non-empty one must hold an element like the seed's.
        # Members only some of the seed's elements show are optional.
        if not isinstance(got, list):
            return False
        if not example or not got:
            return True
        first = example[0]
        if all(isinstance(e, dict) for e in example):
            first = {k: (sum((e[k] for e in example), []) if all(isinstance(e[k], list) for e in example) else v)
                     for k, v in first.items() if all(k in e for e in example)}
        # Elements differ by state (a node with or without a backing file);
        # the VM is configured to have one in the state the seed shows.
        return any(same_shape(first, element) for element in got)
    if isinstance(example, bool):
        return isinstance(got, bool)
    if isinstance(example, (int, float)):
        return isinstance(got, (int, float)) and not isinstance(got, bool)
    if isinstance(example, str):
        return isinstance(got, str)
    return True


def seed_fleet(skip):
    """The fleet the examples run on: vm0 with every plugin not in `skip`,
    arm0 and s390 (see fleet_yaml)."""
    return FleetProcess.on_config(required_fleet_binary(), ["vm0", "arm0", "s390"],
                                  lambda socket_dir: fleet_yaml(socket_dir, skip))


async def prepare(client, tmp):
    """What the seed's examples assume exists: an fd named "dump" (getfd)."""
    fd = os.open(os.path.join(tmp, "seed-dump.core"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    client.send_fd_scm(fd)
    os.close(fd)
    await client.execute("getfd", {"fdname": "dump"})


def without(value, path):
    """`value` without the member at dotted `path`, in each list element too."""
    if isinstance(value, list):
        return [without(v, path) for v in value]
    if not isinstance(value, dict):
        return value
    head, _, rest = path.partition(".")
    return {k: (without(v, rest) if k == head and rest else v) for k, v in value.items() if not (k == head and not rest)}


async def check_all(fleet, tmp):
    problems, notes = [], []
    clients = {}
    for vm in ("vm0", "arm0", "s390"):
        clients[vm] = await connect(fleet.vm_socket(vm))
    await prepare(clients["vm0"], tmp)
    for heading, request, example_reply in seed_examples():
        name = request["execute"]
        client = clients[ROUTE.get(name, "vm0")]
        if name in ("getfd", "add-fd"):
            # The seed's getfd/add-fd examples pass a descriptor along.
            fd = os.open(os.path.join(tmp, f"seed-{name}"), os.O_RDWR | os.O_CREAT, 0o600)
            client.send_fd_scm(fd)
            os.close(fd)
        msg = {"execute": name}
        if "arguments" in request:
            msg["arguments"] = request["arguments"]
        try:
            reply = dict(await asyncio.wait_for(client._raw(Message(msg), assign_id=True), 30))
        except Exception as exc:  # a dead connection is a finding too
            problems.append(f"{name} [{heading}]: no reply ({exc!r})")
            continue
        owner = PLUGIN_OF.get(name, "core")
        if "error" in reply:
            err = reply["error"]
            if (name, err["desc"]) in QEMU_WINS:
                continue
            if err["class"] == "CommandNotFound":
                problems.append(f"MISSING {name} (plugin '{owner}'): {err['desc']}")
            else:
                # The command exists and checked its arguments; what it
                # refused depends on state the seed's example assumes
                # (devices, fds, objects of an earlier example).
                notes.append(f"{name} (plugin '{owner}') [{heading}]: {err['class']}: {err['desc']}")
            continue
        if example_reply is not None and "return" in example_reply:
            expected = example_reply["return"]
            for command, path in QEMU_WINS_SHAPE:
                if command == name:
                    expected = without(expected, path)
            if not same_shape(expected, reply.get("return")):
                problems.append(f"SHAPE {name} (plugin '{owner}'): seed {json.dumps(example_reply['return'])[:200]} "
                                f"got {json.dumps(reply.get('return'))[:200]}")
    for client in clients.values():
        await client.disconnect()
    return problems, notes


def test_seed_headings_are_all_exercised():
    names = {request["execute"] for _, request, _ in seed_examples()}
    commands = set(seed_commands())
    assert len(commands) == 76
    # Every example names a seed command, and every seed command but the two
    # whose sections show no "->" example is exercised by one.
    assert names <= commands
    assert commands - names == {"change-backing-file", "query-qmp-schema"}


def test_every_seed_example():
    skip = unavailable_plugins()
    fleet = seed_fleet(skip)
    tmp = tempfile.mkdtemp(prefix="seedf-", dir="/tmp")
    created_resume = not os.path.exists("/tmp/resume")
    if created_resume:
        # xen-load-devices-state's example loads /tmp/resume: a stream header.
        with open("/tmp/resume", "wb") as f:
            f.write(b"QEVM\x00\x00\x00\x03")
    try:
        problems, notes = run(check_all(fleet, tmp))
    finally:
        fleet.close()
        shutil.rmtree(tmp, ignore_errors=True)
        if created_resume:
            os.unlink("/tmp/resume")
    for note in notes:
        warnings.warn(f"seed example refused: {note}")
    problems = [f"PLUGIN {name} not loaded: {why}" for name, why in sorted(skip.items())] + problems
    assert not problems, "seed examples that fail:\n" + "\n".join(problems)
