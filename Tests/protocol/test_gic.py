"""query-gic-capabilities through qemu.qmp against the built qmpfleet: an
aarch64 virt VM compared with qemu-system-aarch64 7.2 (skipped when it is
not installed), the seed's example from config, and an x86 VM, which has
no such command in QEMU."""
import pytest

from test_netchar_support import Fleet, connect, raw, comparable, run
from test_rocker_support import QemuWith, have

SEQUENCE = [
    ("query-gic-capabilities", None),
    ("query-gic-capabilities", {"x": 1}),
]


async def sequence(path):
    client = await connect(path)
    replies = [comparable(await raw(client, name, args)) for name, args in SEQUENCE]
    await client.disconnect()
    return replies


def fleet_run(vm_yaml):
    fleet = Fleet(vm_yaml)
    try:
        return run(sequence(fleet.socket))
    finally:
        fleet.close()


@pytest.mark.skipif(not have("qemu-system-aarch64"), reason="qemu-system-aarch64 is not installed")
def test_arm_virt_matches_qemu():
    qemu = QemuWith(["-machine", "virt"], arch="aarch64")
    try:
        expected = run(sequence(qemu.socket))
    finally:
        qemu.close()
    assert expected[0] == ("return", [{"emulated": True, "version": 3, "kernel": False},
                                      {"emulated": True, "version": 2, "kernel": False}])
    assert fleet_run("{name: vm0, arch: aarch64, machine: virt, plugins: {gic: {}}}") == expected


def test_seed_example():
    got = fleet_run("{name: vm0, arch: aarch64, machine: virt, plugins: {gic: {capabilities: "
                    "[{version: 2, emulated: true, kernel: false}, {version: 3, emulated: false, kernel: true}]}}}")
    assert got[0] == ("return", [{"version": 2, "emulated": True, "kernel": False},
                                 {"version": 3, "emulated": False, "kernel": True}])


def test_x86_has_no_command_like_qemu():
    qemu = QemuWith(["-machine", "pc"])
    try:
        expected = run(sequence(qemu.socket))
    finally:
        qemu.close()
    assert expected[0][1] == "CommandNotFound"
    assert fleet_run("{name: vm0, machine: pc}") == expected
