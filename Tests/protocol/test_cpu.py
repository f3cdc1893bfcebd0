"""CPU hot-plug commands of the seed through qemu.qmp against the built
binary: query-hotpluggable-cpus as the seed's pc example shows it, and
the `cpu` and `cpu-add` commands QEMU 7.2 no longer has."""
import pytest

from test_netchar_support import Fleet, connect, raw, run

# The seed's example VM: pc, `-smp 1,maxcpus=2` laid out as two sockets (QEMU 2.x).
VM = "{name: vm0, machine: pc, smp: {cpus: 1, sockets: 2, maxcpus: 2}, plugins: {cpu-hotplug: {}}}"


@pytest.fixture
def fleet():
    f = Fleet(VM)
    yield f
    f.close()


def test_seed_examples(fleet):
    async def scenario():
        qmp = await connect(fleet.socket)
        assert await raw(qmp, "query-hotpluggable-cpus") == {"return": [
            {"type": "qemu64-x86_64-cpu", "vcpus-count": 1, "props": {"core-id": 0, "socket-id": 1, "thread-id": 0}},
            {"qom-path": "/machine/unattached/device[0]", "type": "qemu64-x86_64-cpu", "vcpus-count": 1,
             "props": {"core-id": 0, "socket-id": 0, "thread-id": 0}},
        ]}
        assert await raw(qmp, "cpu", {"index": 0}) == {"return": {}}
        assert await raw(qmp, "cpu", {"index": 1}) == {"error": {"class": "GenericError", "desc": "Invalid parameter 'index'"}}
        assert await raw(qmp, "cpu-add", {"id": 1}) == {"return": {}}
        assert await raw(qmp, "cpu", {"index": 1}) == {"return": {}}
        assert await raw(qmp, "cpu-add", {"id": 1}) == {"error": {"class": "GenericError", "desc": "CPU[1] with APIC ID 1 exists"}}
        cpus = (await raw(qmp, "query-hotpluggable-cpus"))["return"]
        assert cpus[0]["qom-path"].startswith("/machine/unattached/device[")
        assert await raw(qmp, "device_add", {"driver": "qemu64-x86_64-cpu", "id": "c9", "socket-id": 1, "core-id": 0, "thread-id": 0}) == {
            "error": {"class": "GenericError", "desc": "CPU[1] with APIC ID 1 exists"}}
        await qmp.disconnect()
    run(scenario())
