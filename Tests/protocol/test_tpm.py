"""TPM through qemu.qmp against the built qmpfleet: the seed's examples,
and the replies compared with QEMU 7.2 started with the same devices
(an emulator backend on tpm-crb needs swtpm; skipped without it)."""
import pytest

from conftest import QemuProcess
from test_netchar_support import Fleet, assert_same_replies, connect, replies_of, run
from test_rocker_support import Swtpm, have


def fleet_with(backends):
    return Fleet("{name: vm0, machine: q35, plugins: {tpm: {backends: %s}}}" % backends)


def test_seed_examples():
    fleet = fleet_with("[{id: tpm0, type: passthrough, path: /dev/tpm0, "
                       "cancel-path: /sys/class/misc/tpm0/device/cancel, model: tpm-tis}]")

    async def go():
        client = await connect(fleet.socket)
        assert await client.execute("query-tpm") == [
            {"model": "tpm-tis",
             "options": {"type": "passthrough",
                         "data": {"cancel-path": "/sys/class/misc/tpm0/device/cancel", "path": "/dev/tpm0"}},
             "id": "tpm0"}]
        # QEMU 7.2 x86_64 has more than the seed's single model and type.
        assert await client.execute("query-tpm-models") == ["tpm-crb", "tpm-tis"]
        assert await client.execute("query-tpm-types") == ["passthrough", "emulator"]
        await client.disconnect()
    try:
        run(go())
    finally:
        fleet.close()


SEQUENCE = [
    ("query-tpm", None),
    ("query-tpm-models", None),
    ("query-tpm-types", None),
    ("query-tpm", {"x": 1}),
    ("device_add", {"driver": "tpm-tis", "id": "t2", "tpmdev": "tpm0"}),
    ("device_add", {"driver": "tpm-crb", "id": "t3"}),
    ("device_add", {"driver": "tpm-tis-device", "id": "t4"}),
    ("query-tpm", None),
]


@pytest.mark.skipif(not have("swtpm"), reason="swtpm is not installed")
def test_emulator_on_crb_matches_qemu():
    swtpm = Swtpm()
    try:
        expected = replies_of(QemuProcess("q35", paused=True, extra=[
            "-chardev", f"socket,id=chrtpm,path={swtpm.socket}",
            "-tpmdev", "emulator,id=tpm0,chardev=chrtpm", "-device", "tpm-crb,tpmdev=tpm0"]), SEQUENCE)
    finally:
        swtpm.close()
    got = replies_of(fleet_with("[{id: tpm0, type: emulator, chardev: chrtpm, model: tpm-crb}]"), SEQUENCE)
    assert expected[0][1] == [{"id": "tpm0", "model": "tpm-crb", "options": {"type": "emulator", "data": {"chardev": "chrtpm"}}}]
    assert_same_replies(SEQUENCE, expected, got)


def test_without_tpm_matches_qemu():
    expected = replies_of(QemuProcess("q35", paused=True), SEQUENCE)
    got = replies_of(fleet_with("[]"), SEQUENCE)
    assert_same_replies(SEQUENCE, expected, got)
