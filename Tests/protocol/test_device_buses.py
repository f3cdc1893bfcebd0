"""device_add of devices that go on a board's IDE or floppy bus, against
real QEMU 7.2 (`qemu-system-x86_64 -machine pc|q35 -nodefaults -S`):
neither board's IDE buses (pc's PIIX `ide.0`/`ide.1`, q35's AHCI `ide.0` to
`ide.5`) nor pc's `floppy-bus.0` take hot-plug, so QEMU refuses each with
"Bus 'ide.1' does not support hotplugging" (the bus it would have picked)
before it looks at the id or the properties; a bus of another type or name
is refused as qdev refuses it. Replies are compared one for one, then the
QOM tree, which must show no device on either.
"""
import shutil

import pytest

from conftest import FleetProcess, QemuProcess, QEMU_PROGRAM, missing, required_fleet_binary
from qmp_raw import RawQMP
from test_command_replies import BARE_PC

REQUESTS = [
    ("device_add", {"driver": "ide-cd", "id": "cd1"}),
    ("device_add", {"driver": "ide-hd", "id": "hd1"}),
    ("device_add", {"driver": "ide-hd", "id": "hd2", "nosuch": 1}),
    ("device_add", {"driver": "ide-cd", "id": "cd2", "bus": "ide.0"}),
    ("device_add", {"driver": "ide-cd", "id": "cd3", "bus": "ide.9"}),
    ("device_add", {"driver": "ide-cd", "id": "1bad", "bus": "ide.0"}),
    ("device_add", {"driver": "ide-hd", "bus": "isa.0"}),
    ("device_add", {"driver": "ide-hd", "bus": "floppy-bus.0"}),
    ("device_add", {"driver": "floppy", "id": "f1"}),
    ("device_add", {"driver": "floppy", "bus": "ide.0"}),
    ("device_add", {"driver": "e1000", "id": "2bad"}),
    ("qom-list", {"path": "/machine/peripheral"}),
    ("qom-list", {"path": "/machine/peripheral-anon"}),
]


def replies_of_qemu_and_fleet(machine, requests, template=None, qemu_args=()):
    """Each request's reply from a paused QEMU 7.2 of `machine` (pc or q35,
    with `qemu_args`) and from a simulated VM of `template` (the bare board
    by default): (QEMU's replies, the fleet's)."""
    if shutil.which(QEMU_PROGRAM) is None:
        missing(f"{QEMU_PROGRAM} is not installed")
    binary = required_fleet_binary()
    if template is None:
        template = BARE_PC if machine == "pc" else dict(BARE_PC, machine="pc-q35-7.2")
    qemu = QemuProcess(machine, paused=True, extra=qemu_args)
    fleet = FleetProcess(binary, {machine: template}, [{"name": "vm0", "template": machine}])
    try:
        replies = []
        for path in (qemu.socket, fleet.vm_socket("vm0")):
            client = RawQMP(path)
            client.negotiate()
            replies.append([client.execute(name, args) for name, args in requests])
            client.close()
    finally:
        qemu.close()
        fleet.close()
    return replies[0], replies[1]


def same_replies(machine, requests):
    """QEMU's replies, once the fleet's are found equal one for one."""
    want, have = replies_of_qemu_and_fleet(machine, requests)
    for request, expected, got in zip(requests, want, have):
        assert got == expected, request
    return want


@pytest.mark.parametrize("machine", ["pc", "q35"])
def test_ide_and_floppy_hotplug_refused_as_qemu_7_2(machine):
    requests = REQUESTS + [("device_add", {"driver": "ide-hd", "bus": "pci.0" if machine == "pc" else "pcie.0"})]
    replies = same_replies(machine, requests)
    picked = "ide.1" if machine == "pc" else "ide.5"
    assert replies[0]["error"]["desc"] == f"Bus '{picked}' does not support hotplugging"


def port(driver, id, **extra):
    return ("device_add", dict({"driver": driver, "id": id}, **extra))


#: A virtio-serial controller's port numbers (max_ports 31 by default, 0
#: held for a console), names, `nr` and `max_ports` checks.
SERIAL = [
    port("virtio-serial-pci", "vs0"),
    port("virtio-serial-pci", "vs1", max_ports=3),
    port("virtserialport", "p0"),
    port("virtserialport", "p1", nr="2"),
    port("virtserialport", "p2", nr=2),
    port("virtserialport", "p3", nr="abc"),
    port("virtserialport", "p4", nr=-1),
    port("virtserialport", "p5", name="org.x"),
    port("virtserialport", "p5", name="org.x", bus="vs0.0"),
    port("virtserialport", "p6", name="org.x", bus="vs0.0"),
    port("virtconsole", "c0", bus="vs1.0"),
    port("virtconsole", "c1", bus="vs1.0"),
    port("virtio-serial-pci", "vs2", max_ports=0),
    port("virtio-serial-pci", "vs3", max_ports=512),
    port("virtio-serial-pci", "vs5", max_ports=32),
    port("virtserialport", "p7", nr=0, bus="vs5.0"),
    port("virtconsole", "c2", bus="vs5.0"),
    port("virtserialport", "p8", nr=40, bus="vs5.0"),
] + [port("virtserialport", f"q{n}", bus="vs5.0") for n in range(1, 33)] \
  + [port("virtserialport", f"r{n}", bus="vs0.0") for n in range(31)]


def test_virtio_serial_ports_numbered_as_qemu_7_2():
    replies = same_replies("pc", SERIAL)
    assert replies[-1]["error"]["desc"] == "virtio-serial-bus: Out-of-range port id specified, max. allowed: 30"


#: SCSI disks need an adapter's bus (`virtio-scsi-pci`, `lsi53c895a`): none
#: on a bare board, then the buses' names (`ID.0`, else `scsi.N` counted over
#: both kinds), the newest adapter's bus when none is named, and
#: `scsi_qdev_realize`'s checks of channel, target and LUN before the disk's
#: own (its drive).
SCSI_REQUESTS = [
    ("blockdev-add", {"driver": "null-co", "node-name": "n0"}),
    ("blockdev-add", {"driver": "null-co", "node-name": "n1"}),
    ("blockdev-add", {"driver": "null-co", "node-name": "n2"}),
    ("device_add", {"driver": "scsi-hd", "id": "d0", "drive": "n0"}),
    ("device_add", {"driver": "scsi-cd", "id": "c0"}),
    ("device_add", {"driver": "virtio-scsi-pci", "id": "s0"}),
    ("device_add", {"driver": "virtio-scsi-pci"}),
    ("device_add", {"driver": "lsi53c895a"}),
    ("device_add", {"driver": "scsi-hd", "id": "d0", "drive": "n0", "bus": "nope.0"}),
    ("device_add", {"driver": "scsi-hd", "id": "d0", "drive": "n0", "bus": "s0.0", "scsi-id": "x"}),
    ("device_add", {"driver": "scsi-hd", "id": "d0", "drive": "n0", "bus": "s0.0", "scsi-id": -1}),
    ("device_add", {"driver": "scsi-hd", "id": "d0", "drive": "n0", "bus": "s0.0", "channel": 1}),
    ("device_add", {"driver": "scsi-hd", "id": "d0", "drive": "n0", "bus": "s0.0", "lun": 16384}),
    ("device_add", {"driver": "scsi-hd", "id": "d0", "drive": "n0", "bus": "scsi.1", "scsi-id": 8}),
    ("device_add", {"driver": "scsi-hd", "id": "d0", "drive": "n0", "lun": 1}),
    ("device_add", {"driver": "scsi-hd", "id": "d0", "drive": "nope", "bus": "s0.0"}),
    ("device_add", {"driver": "scsi-hd", "id": "d0", "bus": "s0.0"}),
    ("device_add", {"driver": "scsi-hd", "id": "d0", "drive": "n0", "bus": "s0.0", "scsi-id": 0, "lun": 0}),
    ("device_add", {"driver": "scsi-hd", "id": "d1", "drive": "n1", "bus": "s0.0", "scsi-id": 0, "lun": 0}),
    ("device_add", {"driver": "scsi-hd", "id": "d1", "drive": "n1", "bus": "s0.0", "scsi-id": 0}),
    ("device_add", {"driver": "scsi-cd", "id": "c1", "bus": "scsi.0", "lun": 5}),
    ("device_add", {"driver": "scsi-cd", "id": "c2", "bus": "scsi.1"}),
    ("qom-list", {"path": "/machine/peripheral"}),
]


def test_scsi_disks_need_an_adapter_as_in_qemu_7_2():
    same_replies("pc", SCSI_REQUESTS)
