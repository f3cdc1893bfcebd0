"""TPM through qemu.qmp against the built qmpfleet: the seed's examples,
and the replies compared with QEMU 7.2 started with the same devices
(an emulator backend on tpm-crb needs swtpm; skipped without it)."""
import pytest

from test_netchar_support import Fleet, connect, raw, comparable, run
from test_rocker_support import QemuWith, Swtpm, have


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


async def sequence(path):
    client = await connect(path)
    replies = [comparable(await raw(client, name, args)) for name, args in SEQUENCE]
    await client.disconnect()
    return replies


@pytest.mark.skipif(not have("swtpm"), reason="swtpm is not installed")
def test_emulator_on_crb_matches_qemu():
    swtpm = Swtpm()
    try:
        qemu = QemuWith(["-machine", "q35", "-chardev", f"socket,id=chrtpm,path={swtpm.socket}",
                         "-tpmdev", "emulator,id=tpm0,chardev=chrtpm", "-device", "tpm-crb,tpmdev=tpm0"])
        try:
            expected = run(sequence(qemu.socket))
        finally:
            qemu.close()
    finally:
        swtpm.close()
    fleet = fleet_with("[{id: tpm0, type: emulator, chardev: chrtpm, model: tpm-crb}]")
    try:
        got = run(sequence(fleet.socket))
    finally:
        fleet.close()
    assert expected[0][1] == [{"id": "tpm0", "model": "tpm-crb", "options": {"type": "emulator", "data": {"chardev": "chrtpm"}}}]
    for (name, args), want, have_ in zip(SEQUENCE, expected, got):
        assert have_ == want, (name, args)


def test_without_tpm_matches_qemu():
    qemu = QemuWith(["-machine", "q35"])
    try:
        expected = run(sequence(qemu.socket))
    finally:
        qemu.close()
    fleet = fleet_with("[]")
    try:
        got = run(sequence(fleet.socket))
    finally:
        fleet.close()
    for (name, args), want, have_ in zip(SEQUENCE, expected, got):
        assert have_ == want, (name, args)
