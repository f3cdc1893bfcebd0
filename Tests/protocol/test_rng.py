"""The entropy objects libvirt uses (rng-random, rng-builtin, rng-egd) and
virtio-rng-pci: the same sequence sent to the built qmpfleet and to real
QEMU 7.2, every reply compared, and the device's query-pci entry."""
import os
import shutil
import tempfile

from test_netchar_support import compare_with_qemu, replies_then


def obj(type, id, **props):
    return ("object-add", {"qom-type": type, "id": id, **props})


def device(id, **props):
    return ("device_add", {"driver": "virtio-rng-pci", "id": id, **props})


def sequence(scratch):
    return [
        obj("rng-random", "r0"),
        obj("rng-random", "r1", filename=f"{scratch}/entropy"),
        obj("rng-random", "r2", filename=f"{scratch}/none"),
        obj("rng-random", "r3", filename=f"{scratch}/entropy", opened=True),
        obj("rng-builtin", "b0"),
        obj("rng-builtin", "b1", filename="x"),
        obj("rng-egd", "e0"),
        obj("rng-egd", "e0", chardev="nope"),
        ("chardev-add", {"id": "c1", "backend": {"type": "null", "data": {}}}),
        obj("rng-egd", "e1", chardev="c1"),
        obj("rng-egd", "e2", chardev="c1"),
        ("chardev-remove", {"id": "c1"}),
        device("v0", rng="nope"),
        device("v0", rng="c1"),
        device("v0", rng="b0", period=0),
        device("v0", rng="b0", period="99999999999"),
        device("v0", rng="b0", **{"max-bytes": -1}),
        device("v0", rng="b0", **{"max-bytes": "abc"}),
        device("v0", rng="r1"),
        device("v1", rng="e1", period=1000, **{"max-bytes": 1024}),
        device("v2"),
        ("qom-get", {"path": "/objects/r0", "property": "filename"}),
        ("qom-get", {"path": "/objects/r0", "property": "opened"}),
        ("qom-get", {"path": "/objects/r1", "property": "filename"}),
        ("qom-get", {"path": "/objects/b0", "property": "opened"}),
        ("qom-get", {"path": "/objects/e1", "property": "chardev"}),
        ("qom-get", {"path": "/machine/peripheral/v0", "property": "rng"}),
        ("qom-get", {"path": "/machine/peripheral/v1", "property": "period"}),
        ("qom-get", {"path": "/machine/peripheral/v1", "property": "max-bytes"}),
        ("qom-get", {"path": "/machine/peripheral/v2", "property": "rng"}),
        ("qom-get", {"path": "/machine/peripheral/v2", "property": "max-bytes"}),
        ("object-del", {"id": "e1"}),
        ("chardev-remove", {"id": "c1"}),
        ("object-del", {"id": "r0"}),
        ("object-del", {"id": "r0"}),
    ]


async def replies_and_entries(path, steps):
    out, (pci, chardevs) = await replies_then(path, steps, "query-pci", "query-chardev")
    entries = sorted((e for bus in pci for e in bus["devices"] if e["qdev_id"]), key=lambda e: e["qdev_id"])
    return out, entries, [c for c in chardevs if c["label"] == "c1"]


def test_rng_matches_qemu():
    scratch = tempfile.mkdtemp(prefix="rng-", dir="/tmp")
    try:
        with open(os.path.join(scratch, "entropy"), "wb") as f:
            f.write(b"\x01\x02\x03")
        steps = sequence(scratch)
        compare_with_qemu("{name: vm0, machine: pc, plugins: {chardev: {serial: []}}}", steps, replies_and_entries)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
