"""trace-event-get/set-state through qemu.qmp: the built qmpfleet and QEMU
7.2 answer the same sequence the same way, down to the full catalogue."""
from conftest import QemuProcess
from test_netchar_support import Fleet, assert_same_replies, replies_of

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
    ("trace-event-get-state", {"name": "*", "vcpu": 0}),
    # QEMU applies a vCPU's trace state on that vCPU's thread, later
    # (async_run_on_cpu): a get-state right after races it, so it is not
    # asked here (TraceTests check the state that follows).
    ("trace-event-set-state", {"name": "guest_cpu_enter", "enable": True, "vcpu": 0}),
    ("trace-event-set-state", {"name": "qemu_memalign", "enable": "true"}),
]


def test_matches_qemu():
    expected = replies_of(QemuProcess("pc", paused=True), SEQUENCE)
    got = replies_of(Fleet("{name: vm0, machine: pc, plugins: {trace: {}}}"), SEQUENCE)
    assert len(expected[0][1]) == 4246
    assert_same_replies(SEQUENCE, expected, got)
