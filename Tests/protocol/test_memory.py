"""Memory and CPU hot-plug through a real client (qemu.qmp) against the
built binary, and the same error sequence against QEMU 7.2."""
import asyncio
import os
import shutil

import pytest

from conftest import QemuProcess
from test_netchar_support import Fleet, assert_same_replies, connect, raw, replies_of, run

VM = ("{name: vm0, machine: pc, memory: {size: 1G, slots: 4, maxmem: 4G}, smp: {cpus: 1, cores: 4, maxcpus: 4}, "
      "plugins: {memory: {guest-ack-ms: 50}, cpu-hotplug: {guest-ack-ms: 50}}}")
PAUSED_VM = VM.replace("smp:", "start-paused: true, smp:")


@pytest.fixture
def fleet():
    f = Fleet(VM)
    yield f
    f.close()


async def next_event(client, timeout=2.0):
    return await asyncio.wait_for(client.events.get(), timeout)


def test_hotplug_and_unplug_dimm_and_cpu(fleet):
    async def scenario():
        qmp = await connect(fleet.socket)
        assert await raw(qmp, "object-add", {"qom-type": "memory-backend-ram", "id": "m1", "size": 1 << 30}) == {"return": {}}
        assert await raw(qmp, "device_add", {"driver": "pc-dimm", "id": "d1", "memdev": "m1"}) == {"return": {}}
        ost = await next_event(qmp)
        assert ost["event"] == "ACPI_DEVICE_OST"
        assert ost["data"] == {"info": {"device": "d1", "slot": "0", "slot-type": "DIMM", "source": 1, "status": 0}}
        assert await raw(qmp, "query-memory-devices") == {"return": [
            {"type": "dimm", "data": {"memdev": "/objects/m1", "hotplugged": True, "addr": 4294967296, "hotpluggable": True,
                                      "size": 1073741824, "slot": 0, "node": 0, "id": "d1"}}]}
        ospm = (await raw(qmp, "query-acpi-ospm-status"))["return"]
        assert ospm[0] == {"device": "d1", "slot": "0", "slot-type": "DIMM", "source": 1, "status": 0}
        assert len(ospm) == 4

        assert await raw(qmp, "device_add", {"driver": "qemu64-x86_64-cpu", "id": "c1",
                                             "socket-id": 0, "core-id": 1, "thread-id": 0}) == {"return": {}}
        cpus = (await raw(qmp, "query-hotpluggable-cpus"))["return"]
        assert cpus[2] == {"props": {"node-id": 0, "socket-id": 0, "core-id": 1, "thread-id": 0}, "vcpus-count": 1,
                           "qom-path": "/machine/peripheral/c1", "type": "qemu64-x86_64-cpu"}
        assert cpus[3]["qom-path"] == "/machine/unattached/device[0]"

        assert await raw(qmp, "object-del", {"id": "m1"}) == {
            "error": {"class": "GenericError", "desc": "object 'm1' is in use, can not be deleted"}}
        assert await raw(qmp, "device_del", {"id": "d1"}) == {"return": {}}
        ost = await next_event(qmp)
        assert ost["data"]["info"] == {"device": "d1", "slot": "0", "slot-type": "DIMM", "source": 259, "status": 132}
        deleted = await next_event(qmp)
        assert deleted["event"] == "DEVICE_DELETED"
        assert deleted["data"] == {"device": "d1", "path": "/machine/peripheral/d1"}
        assert await raw(qmp, "query-memory-devices") == {"return": []}
        assert (await raw(qmp, "query-acpi-ospm-status"))["return"][0] == {"slot": "0", "slot-type": "DIMM", "source": 259, "status": 132}
        assert await raw(qmp, "object-del", {"id": "m1"}) == {"return": {}}

        assert await raw(qmp, "device_del", {"id": "c1"}) == {"return": {}}
        deleted = await next_event(qmp)
        assert deleted["event"] == "DEVICE_DELETED"
        assert deleted["data"] == {"device": "c1", "path": "/machine/peripheral/c1"}
        cpus = (await raw(qmp, "query-hotpluggable-cpus"))["return"]
        assert "qom-path" not in cpus[2]
        assert await raw(qmp, "query-memdev") == {"return": [
            {"id": "pc.ram", "size": 1 << 30, "merge": True, "dump": True, "prealloc": False, "share": False,
             "reserve": True, "host-nodes": [], "policy": "default"}]}
        await qmp.disconnect()
    run(scenario())


SEQUENCE = [
    ("query-hotpluggable-cpus", None),
    ("query-memory-devices", None),
    ("query-acpi-ospm-status", None),
    ("device_add", {"driver": "pc-dimm", "id": "d0"}),
    ("device_add", {"driver": "pc-dimm", "id": "d0", "memdev": "nope"}),
    ("object-add", {"qom-type": "memory-backend-ram", "id": "m0"}),
    ("object-add", {"qom-type": "memory-backend-ram", "id": "m0", "size": 1000000}),
    ("device_add", {"driver": "pc-dimm", "id": "d0", "memdev": "m0"}),
    ("object-add", {"qom-type": "memory-backend-ram", "id": "m1", "size": 1 << 30}),
    ("object-add", {"qom-type": "memory-backend-ram", "id": "m1", "size": 1 << 30}),
    ("object-add", {"qom-type": "memory-backend-ram", "id": "m2", "size": 1 << 29, "policy": "bind"}),
    ("object-add", {"qom-type": "memory-backend-ram", "id": "m2", "size": 1 << 29, "host-nodes": [0]}),
    ("object-add", {"qom-type": "memory-backend-ram", "id": "m2", "size": "512M"}),
    ("object-add", {"qom-type": "memory-backend-ram", "id": "m2", "size": 1 << 29, "merge": "yes"}),
    ("object-add", {"qom-type": "memory-backend-file", "id": "f1", "size": 1 << 29}),
    ("object-add", {"qom-type": "memory-backend-ram", "id": "m2", "size": 1 << 29}),
    ("object-add", {"qom-type": "memory-backend-ram", "id": "m3", "size": 3 << 30}),
    ("device_add", {"driver": "pc-dimm", "id": "d1", "memdev": "m1", "slot": 5}),
    ("device_add", {"driver": "pc-dimm", "id": "d1", "memdev": "m1", "addr": 4294967297}),
    ("device_add", {"driver": "pc-dimm", "id": "d1", "memdev": "m1", "addr": 2097152}),
    ("device_add", {"driver": "pc-dimm", "id": "d1", "memdev": "m1", "node": 1}),
    ("device_add", {"driver": "pc-dimm", "id": "d1", "memdev": "m3"}),
    ("device_add", {"driver": "pc-dimm", "id": "d1", "memdev": "m1", "slot": 1}),
    ("device_add", {"driver": "pc-dimm", "id": "d1", "memdev": "m2"}),
    ("device_add", {"driver": "pc-dimm", "id": "d2", "memdev": "m1"}),
    ("device_add", {"driver": "pc-dimm", "id": "d2", "memdev": "m2", "slot": 1}),
    ("device_add", {"driver": "pc-dimm", "id": "d2", "memdev": "m2", "addr": 4294967296}),
    ("device_add", {"driver": "nvdimm", "id": "n1", "memdev": "m2"}),
    ("device_add", {"driver": "pc-dimm", "id": "d2", "memdev": "m2"}),
    ("query-memory-devices", None),
    ("object-del", {"id": "m1"}),
    ("object-del", {"id": "nope"}),
    ("device_add", {"driver": "qemu64-x86_64-cpu", "id": "c1", "socket-id": 0, "core-id": 0, "thread-id": 0}),
    ("device_add", {"driver": "qemu64-x86_64-cpu", "id": "c1", "socket-id": 0, "core-id": 9, "thread-id": 0}),
    ("device_add", {"driver": "qemu64-x86_64-cpu", "id": "c1", "core-id": 1}),
    ("device_add", {"driver": "qemu64-x86_64-cpu", "id": "c1", "socket-id": 0, "core-id": 1}),
    ("device_add", {"driver": "max-x86_64-cpu", "id": "c1", "socket-id": 0, "core-id": 1, "thread-id": 0}),
    ("device_add", {"driver": "qemu64-x86_64-cpu", "id": "c1", "socket-id": 0, "core-id": 1, "thread-id": 0}),
    ("device_add", {"driver": "qemu64-x86_64-cpu", "id": "c2", "socket-id": 0, "core-id": 1, "thread-id": 0}),
    ("query-hotpluggable-cpus", None),
    ("device_del", {"id": "c1"}),
    ("device_del", {"id": "d1"}),
    ("device_del", {"id": "d1"}),
    ("rtc-reset-reinjection", None),
]


@pytest.mark.skipif(shutil.which("qemu-system-x86_64") is None, reason="QEMU 7.2 not installed")
def test_same_replies_as_qemu_without_guest():
    """A paused VM (no guest OS yet) answers like QEMU 7.2 started with -S."""
    ours = replies_of(Fleet(PAUSED_VM), SEQUENCE)
    # Configured like VM, paused (no guest OS).
    theirs = replies_of(QemuProcess("pc", paused=True, extra=["-m", "1G,slots=4,maxmem=4G", "-smp", "1,maxcpus=4"]), SEQUENCE)
    assert_same_replies(SEQUENCE, theirs, ours)
