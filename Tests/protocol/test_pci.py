"""query-pci and the virtio debug queries as the PCI devices come and go:
the same device set built on a simulated pc VM (bare board, every device
plugin, -S) and on real QEMU 7.2 (`qemu-system-x86_64 -machine pc
-nodefaults -S`), compared reply for reply: after device_add with and
without `addr`, after refusals (a taken slot, a function behind a populated
function 0, a single-function device sharing a slot, a bad `addr`), and
after device_del once the guest has let the device go (on QEMU, whose -S
guest runs no ACPI, `system_reset` completes the pending unplug, as
tests/qtest/device-plug-test.c does; the simulated guest lets go by itself).
No rocker is unplugged: QEMU 7.2 aborts in msix_vector_unuse when a reset
completes a rocker's unplug.
"""
import shutil
import time

from conftest import FleetProcess, QemuProcess, QEMU_PROGRAM, missing, required_fleet_binary, short_tempdir
from qmp_raw import RawQMP
from test_command_replies import BARE_PC
from test_device_buses import replies_of_qemu_and_fleet, same_replies

BACKEND = "/machine/peripheral/{}/virtio-backend"

#: Built on both, replies compared; then compared again after the unplug.
PLUG = [
    ("blockdev-add", {"driver": "null-co", "node-name": "nul0"}),
    ("device_add", {"driver": "e1000", "id": "n0"}),
    ("device_add", {"driver": "virtio-net-pci", "id": "n1"}),
    ("device_add", {"driver": "rtl8139", "id": "n2", "addr": "0x7"}),
    ("device_add", {"driver": "virtio-blk-pci", "id": "b0", "drive": "nul0", "addr": "a.0"}),
    ("device_add", {"driver": "virtio-balloon-pci", "id": "bal0"}),
    ("device_add", {"driver": "virtio-serial-pci", "id": "ser0", "addr": 6}),
    ("device_add", {"driver": "virtio-serial-pci"}),
    ("device_add", {"driver": "rocker", "id": "r0", "addr": "0x1e.3"}),
    ("query-pci", None),
    # Refusals: nothing is created.
    ("device_add", {"driver": "e1000", "id": "t0", "addr": "1"}),
    ("device_add", {"driver": "e1000", "id": "t1", "addr": "0x7"}),
    ("device_add", {"driver": "e1000", "id": "t2", "addr": "7.1"}),
    ("device_add", {"driver": "e1000", "id": "t3", "addr": "0x1e"}),
    ("device_add", {"driver": "virtio-net-pci", "id": "t4", "addr": "zz"}),
    ("device_add", {"driver": "e1000", "id": "t5", "addr": "0x20"}),
    ("device_add", {"driver": "e1000", "id": "t6", "multifunction": "maybe"}),
    ("device_add", {"driver": "virtio-balloon-pci", "id": "t7", "addr": "0x1d"}),
    ("query-pci", None),
    ("device_add", {"driver": "e1000", "id": "n3", "addr": "0x1d"}),
    ("x-query-virtio", None),
    ("x-query-virtio-status", {"path": BACKEND.format("n1")}),
    ("x-query-virtio-status", {"path": BACKEND.format("b0")}),
    ("x-query-virtio-status", {"path": BACKEND.format("bal0")}),
    ("x-query-virtio-status", {"path": BACKEND.format("ser0")}),
    ("x-query-virtio-status", {"path": "/machine/peripheral-anon/device[0]/virtio-backend"}),
    ("x-query-virtio-status", {"path": "/machine/peripheral/n1"}),
    ("x-query-virtio-status", {"path": BACKEND.format("n0")}),
    ("x-query-virtio-queue-status", {"path": BACKEND.format("n1"), "queue": 2}),
    ("x-query-virtio-queue-status", {"path": BACKEND.format("n1"), "queue": 3}),
    ("x-query-virtio-queue-status", {"path": BACKEND.format("ser0"), "queue": 63}),
    ("x-query-virtio-vhost-queue-status", {"path": BACKEND.format("b0"), "queue": 0}),
    ("x-query-virtio-queue-element", {"path": BACKEND.format("bal0"), "queue": 0}),
    ("x-query-virtio-queue-element", {"path": BACKEND.format("bal0"), "queue": 9}),
    ("device_del", {"id": "n1"}),
    ("device_del", {"id": "n2"}),
    ("query-pci", None),
]

#: After both unplugs completed: the slots are free again.
AFTER = [
    ("query-pci", None),
    ("x-query-virtio", None),
    ("x-query-virtio-status", {"path": BACKEND.format("n1")}),
    ("device_add", {"driver": "rtl8139", "id": "n4"}),
    ("device_add", {"driver": "e1000", "id": "n5", "addr": "0x7"}),
    ("query-pci", None),
]


def run(path, release):
    client = RawQMP(path)
    client.negotiate()
    replies = [(name, args, client.execute(name, args)) for name, args in PLUG]
    release(client)
    # DEVICE_DELETED for each device (and, first, for a virtio proxy's backend).
    deleted = []
    while not {"n1", "n2"} <= {data.get("device") for data in deleted}:
        deleted.append(client.wait_event("DEVICE_DELETED", timeout=10)["data"])
    deleted += [e["data"] for e in client.take_events() + client.drain(0.2) if e.get("event") == "DEVICE_DELETED"]
    replies += [(name, args, client.execute(name, args)) for name, args in AFTER]
    client.close()
    return replies, deleted


def test_pci_devices_as_qemu_7_2():
    if shutil.which(QEMU_PROGRAM) is None:
        missing(f"{QEMU_PROGRAM} is not installed")
    binary = required_fleet_binary()
    qemu = QemuProcess("pc", paused=True)
    fleet = FleetProcess(binary, {"pc": BARE_PC}, [{"name": "vm0", "template": "pc"}])
    try:
        want, qemu_deleted = run(qemu.socket, lambda c: c.execute("system_reset"))
        have, fleet_deleted = run(fleet.vm_socket("vm0"), lambda c: None)
    finally:
        qemu.close()
        fleet.close()
    assert fleet_deleted == qemu_deleted
    differ = [f"{w[0]} {w[1]}:\n  QEMU  {w[2]}\n  fleet {h[2]}" for w, h in zip(want, have) if w != h]
    assert not differ, f"{len(differ)} of {len(want)} differ:\n" + "\n".join(differ)
    # The comparison saw the devices: each added device is in QEMU's list.
    slots = [(d["slot"], d["function"], d["qdev_id"]) for d in want[9][2]["return"][0]["devices"]]
    assert (7, 0, "n2") in slots and (30, 3, "r0") in slots and len(slots) == 12


#: q35's pcie.0 (QEMU 7.2 -machine q35 -S): no hot-plug, whatever the arguments.
Q35 = [
    ("device_add", {"driver": "e1000", "id": "n0"}),
    ("device_add", {"driver": "virtio-net-pci", "id": "n1", "bus": "pcie.0", "addr": "zz"}),
    ("device_add", {"driver": "rocker", "id": "n0"}),
    ("query-pci", None),
    ("x-query-virtio", None),
]


def test_q35_root_bus_takes_no_hotplug_as_qemu_7_2():
    replies = same_replies("q35", Q35)
    assert replies[0]["error"]["desc"] == "Bus 'pcie.0' does not support hotplugging"


#: A template's devices against the same QEMU command line: cold-plugged in
#: the order of the plugins in the config (BARE_PC's: block, net, ..., rocker,
#: ..., balloon).
CONFIGURED = dict(BARE_PC, plugins=dict(
    BARE_PC["plugins"],
    block={"drives": [{"id": "drive0", "device": "disk0", "interface": "virtio", "file": "/tmp/qmpfleet-pci.qcow2",
                       "format": "qcow2"}]},
    net={"netdevs": [{"id": "net0", "type": "user"}], "nics": [{"id": "nic0", "model": "e1000", "netdev": "net0", "addr": "0x9"}]},
    balloon={"device": "balloon0"},
    rocker={"switches": [{"id": "sw0", "name": "sw0"}]}))
CONFIGURED_COMMAND_LINE = [
    "-blockdev", "null-co,node-name=drive0", "-device", "virtio-blk-pci,drive=drive0,id=disk0",
    "-netdev", "user,id=net0", "-device", "e1000,netdev=net0,id=nic0,addr=0x9",
    "-device", "rocker,id=sw0,name=sw0", "-device", "virtio-balloon-pci,id=balloon0",
]
CONFIGURED_QUERIES = [
    ("query-pci", None),
    ("x-query-virtio", None),
    ("x-query-virtio-status", {"path": BACKEND.format("disk0")}),
    ("device_add", {"driver": "rtl8139", "id": "n1", "addr": "9"}),
    ("device_add", {"driver": "rtl8139", "id": "n1"}),
    ("query-pci", None),
]


def test_configured_devices_as_qemu_7_2_command_line():
    replies = replies_of_qemu_and_fleet("pc", CONFIGURED_QUERIES, template=CONFIGURED, qemu_args=CONFIGURED_COMMAND_LINE)
    differ = [f"{q[0]}:\n  QEMU  {w}\n  fleet {h}" for q, w, h in zip(CONFIGURED_QUERIES, *replies) if w != h]
    assert not differ, "\n".join(differ)
    assert [d["qdev_id"] for d in replies[0][0]["return"][0]["devices"] if d["qdev_id"]] == ["disk0", "sw0", "balloon0", "nic0"]
