"""throttle-group objects: the same object-add and qom-get sequence sent
to the built qmpfleet and to real QEMU 7.2, every reply compared."""
from test_netchar_support import compare_with_qemu, replies_then


def group(id, **props):
    return ("object-add", {"qom-type": "throttle-group", "id": id, **props})


def get(id, prop):
    return ("qom-get", {"path": f"/objects/{id}", "property": prop})


SEQUENCE = [
    group("g0"),
    group("g1", **{"x-bps-total": 1000}),
    group("g2", limits={"bps-total": 1000, "bps-read": 10}),
    group("g3", **{"x-bps-total": -1}),
    group("g3", limits={"bps-total": -1}),
    group("g3", **{"x-iops-size": 100}),
    group("g3", limits={"bps-total-max": 1000}),
    group("g3", limits={"iops-total": 10, "iops-total-max": 5}),
    group("g3", limits={"iops-read": 10, "iops-read-max": 100, "iops-read-max-length": 5}),
    group("g4", limits={"iops-write": 5, "iops-size": 4096}),
    get("g0", "limits"),
    get("g1", "limits"),
    get("g1", "x-bps-total"),
    get("g3", "limits"),
    get("g3", "x-iops-read-max-length"),
    get("g4", "x-iops-size"),
    ("object-del", {"id": "g1"}),
    get("g1", "limits"),
]


async def replies(path, steps):
    return await replies_then(path, steps)


def test_throttle_groups_match_qemu():
    compare_with_qemu("{name: vm0, machine: pc, plugins: {block: {}}}", SEQUENCE, replies)
