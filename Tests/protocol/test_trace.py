"""trace-event-get/set-state through qemu.qmp: the built qmpfleet and QEMU
7.2 answer the same sequence the same way, down to the full catalogue."""
from test_netchar_support import Fleet, connect, raw, comparable, run
from test_rocker_support import QemuWith

SEQUENCE = [
    ("trace-event-get-state", {"name": "*"}),
    ("trace-event-get-state", {"name": "qemu_memalign"}),
    ("trace-event-set-state", {"name": "qemu_memalign", "enable": True}),
    ("trace-event-get-state", {"name": "qemu_mem*"}),
    ("trace-event-get-state", {"name": "no_such_event"}),
    ("trace-event-set-state", {"name": "no_such_event", "enable": True}),
    ("trace-event-get-state", {"name": "no_such*"}),
    ("trace-event-get-state", {"name": "qemu_memalign", "vcpu": 0}),
    ("trace-event-get-state", {"name": "qemu_memalign", "vcpu": 5}),
    ("trace-event-set-state", {"name": "qxl_*", "enable": True}),
    ("trace-event-set-state", {"name": "qxl_*", "enable": True, "ignore-unavailable": True}),
    ("trace-event-get-state", {"name": "qxl_io_write*"}),
    ("trace-event-set-state", {"name": "guest_cpu_enter", "enable": True, "vcpu": 0}),
    ("trace-event-get-state", {"name": "*", "vcpu": 0}),
    ("trace-event-set-state", {"name": "qemu_memalign", "enable": "true"}),
]


async def sequence(path):
    client = await connect(path)
    replies = [comparable(await raw(client, name, args)) for name, args in SEQUENCE]
    await client.disconnect()
    return replies


def test_matches_qemu():
    qemu = QemuWith(["-machine", "pc"])
    try:
        expected = run(sequence(qemu.socket))
    finally:
        qemu.close()
    fleet = Fleet("{name: vm0, machine: pc, plugins: {trace: {}}}")
    try:
        got = run(sequence(fleet.socket))
    finally:
        fleet.close()
    assert len(expected[0][1]) == 4246
    for (name, args), want, have in zip(SEQUENCE, expected, got):
        assert have == want, (name, args)
