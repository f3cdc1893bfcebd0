"""query-gic-capabilities through qemu.qmp against the built qmpfleet: an
aarch64 virt VM compared with qemu-system-aarch64 7.2 (skipped when it is
not installed), the seed's example from config, and an x86 VM, which has
no such command in QEMU."""
import pytest

from conftest import QemuProcess
from test_netchar_support import Fleet, replies_of
from test_rocker_support import have

SEQUENCE = [
    ("query-gic-capabilities", None),
    ("query-gic-capabilities", {"x": 1}),
]


def fleet_run(vm_yaml):
    return replies_of(Fleet(vm_yaml), SEQUENCE)


@pytest.mark.skipif(not have("qemu-system-aarch64"), reason="qemu-system-aarch64 is not installed")
def test_arm_virt_matches_qemu():
    expected = replies_of(QemuProcess("virt", paused=True, arch="aarch64"), SEQUENCE)
    assert expected[0] == ("return", [{"emulated": True, "version": 3, "kernel": False},
                                      {"emulated": True, "version": 2, "kernel": False}])
    assert fleet_run("{name: vm0, arch: aarch64, machine: virt, plugins: {gic: {}}}") == expected


def test_seed_example():
    got = fleet_run("{name: vm0, arch: aarch64, machine: virt, plugins: {gic: {capabilities: "
                    "[{version: 2, emulated: true, kernel: false}, {version: 3, emulated: false, kernel: true}]}}}")
    assert got[0] == ("return", [{"version": 2, "emulated": True, "kernel": False},
                                 {"version": 3, "emulated": False, "kernel": True}])


def test_x86_has_no_command_like_qemu():
    expected = replies_of(QemuProcess("pc", paused=True), SEQUENCE)
    assert expected[0][1] == "CommandNotFound"
    assert fleet_run("{name: vm0, machine: pc}") == expected
