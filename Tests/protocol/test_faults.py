"""Fault injection: fault-add / fault-remove / query-faults on the control
socket and the config's `faults:` section, seen by a VM's clients."""
import time

import pytest

from conftest import PC_TEMPLATE, FleetProcess, required_fleet_binary

# Bounds a latency (see pytest.ini: serial): runs alone, not beside other files.
pytestmark = pytest.mark.serial

BLOCK_PC = dict(PC_TEMPLATE, plugins={"block": {"drives": [
    {"id": "drive0", "device": "disk0", "interface": "virtio", "file": "/var/lib/qmpfleet/disk0.qcow2",
     "format": "qcow2", "size": "20G"}]}})
VMS = [{"name": "vm0", "template": "pc"}, {"name": "vm1", "template": "pc"}]


@pytest.fixture
def faulty(fleet_factory, raw_client):
    """A fleet of vm0 and vm1 (pc with a drive); `client(name)` negotiates."""
    fleet = fleet_factory(vms=VMS, templates={"pc": BLOCK_PC})

    def client(name):
        c = raw_client(fleet.control if name == "fleet" else fleet.vm_socket(name))
        c.negotiate()
        return c

    fleet.client = client
    return fleet


def error_of(reply):
    assert "error" in reply, reply
    return reply["error"]["class"], reply["error"]["desc"]


def test_error_for_the_next_n_calls_then_success(faulty):
    control, vm0, vm1 = faulty.client("fleet"), faulty.client("vm0"), faulty.client("vm1")
    added = control.execute("fault-add", {"id": "f", "vm": "vm0", "command": "query-status", "times": 2,
                                          "action": "error", "error-class": "DeviceNotActive", "desc": "no status"})
    assert added["return"]["id"] == "f" and added["return"]["fired"] == 0
    for _ in range(2):
        assert error_of(vm0.execute("query-status")) == ("DeviceNotActive", "no status")
    assert vm0.execute("query-status")["return"]["status"] == "running"
    assert vm1.execute("query-status")["return"]["status"] == "running"  # another VM
    assert vm0.execute("query-name")["return"] == {"name": "vm0"}  # another command
    [info] = control.execute("query-faults")["return"]
    assert (info["fired"], info["remaining"], info["fired-by-vm"]) == (2, 0, {"vm0": 2})
    assert control.execute("fault-remove", {"id": "f"}) == {"return": {}}
    assert control.execute("query-faults")["return"] == []


def test_probability_is_deterministic_with_a_seed(faulty):
    control = faulty.client("fleet")
    control.execute("fault-add", {"id": "p", "command": "query-name", "probability": 0.5, "seed": 42,
                                  "action": "error", "desc": "flaky"})

    def pattern(vm):
        client = faulty.client(vm)
        return ["error" in client.execute("query-name") for _ in range(40)]

    first, second = pattern("vm0"), pattern("vm1")
    assert first == second  # each VM has its own generator from the same seed
    assert 8 < sum(first) < 32
    [info] = control.execute("query-faults")["return"]
    assert info["fired"] == 2 * sum(first) and info["fired-by-vm"] == {"vm0": sum(first), "vm1": sum(first)}
    control.execute("fault-remove", {"id": "p"})
    control.execute("fault-add", {"id": "q", "command": "query-name", "probability": 0.5, "seed": 43,
                                  "action": "error", "desc": "flaky"})
    assert pattern("vm0") != first


def test_a_fault_for_every_vm_covers_vms_created_later(faulty):
    control = faulty.client("fleet")
    control.execute("fault-add", {"command": "query-kvm", "action": "error", "desc": "later too"})
    assert control.execute("vm-create", {"name": "late", "template": "pc"})["return"]["name"] == "late"
    assert error_of(faulty.client("late").execute("query-kvm")) == ("GenericError", "later too")
    assert error_of(faulty.client("vm1").execute("query-kvm")) == ("GenericError", "later too")


def test_delay_holds_only_that_reply(faulty):
    control = faulty.client("fleet")
    control.execute("fault-add", {"vm": "vm0", "command": "query-status", "action": "delay", "delay-ms": 400})
    slow, other = faulty.client("vm0"), faulty.client("vm0")
    start = time.monotonic()
    slow.send({"execute": "query-status", "id": 1})
    assert other.execute("query-name")["return"] == {"name": "vm0"}  # another client is not held up
    assert time.monotonic() - start < 0.3
    reply = slow.read_reply(timeout=5)
    assert reply == {"return": {"status": "running", "singlestep": False, "running": True}, "id": 1}
    assert time.monotonic() - start >= 0.4


def test_drop_reply_runs_the_command_without_answering(faulty):
    faulty.client("fleet").execute("fault-add", {"vm": "vm0", "command": "stop", "times": 1, "action": "drop-reply"})
    client = faulty.client("vm0")
    client.send({"execute": "stop", "id": "dropped"})
    client.send({"execute": "query-status", "id": "next"})
    reply = client.read_reply(timeout=5)
    assert reply["id"] == "next" and reply["return"]["status"] == "paused"
    assert [e["event"] for e in client.take_events()] == ["STOP"]


def test_disconnect_closes_the_client_only(faulty):
    faulty.client("fleet").execute("fault-add", {"vm": "vm0", "command": "system_reset", "action": "disconnect"})
    victim, bystander = faulty.client("vm0"), faulty.client("vm0")
    victim.send({"execute": "system_reset"})
    with pytest.raises(ConnectionError, match="closed the connection; buffered b''"):
        victim.read_line(timeout=5)  # no reply, then end of file
    assert bystander.execute("query-status")["return"]["status"] == "running"  # not reset, still served


def test_block_io_error_event_has_qemus_shape(faulty):
    faulty.client("fleet").execute("fault-add", {"vm": "vm0", "command": "query-block", "times": 1, "action": "event",
                                                 "event": "block-io-error", "device": "drive0",
                                                 "operation": "write", "io-action": "stop"})
    client = faulty.client("vm0")
    blocks = client.execute("query-block")["return"]
    event = client.wait_event("BLOCK_IO_ERROR", timeout=5)
    assert set(event["data"]) == {"device", "node-name", "operation", "action", "nospace", "reason"}
    assert (event["data"]["device"], event["data"]["operation"], event["data"]["action"]) == ("drive0", "write", "stop")
    assert event["data"]["reason"] == "Input/output error"
    client.wait_event("STOP", timeout=5)
    assert client.execute("query-status")["return"]["status"] == "io-error"
    assert blocks[0]["device"] == "drive0"
    [drive] = [b for b in client.execute("query-block")["return"] if b["device"] == "drive0"]
    assert drive["io-status"] == "failed"


def test_guest_panicked_and_migration_failed_events(faulty):
    control = faulty.client("fleet")
    control.execute("fault-add", {"vm": "vm0", "command": "query-name", "times": 1, "action": "event",
                                  "event": "guest-panicked"})
    control.execute("fault-add", {"vm": "vm1", "command": "query-kvm", "times": 1, "action": "event",
                                  "event": "migration-failed"})
    vm0, vm1 = faulty.client("vm0"), faulty.client("vm1")
    assert vm0.execute("query-name")["return"] == {"name": "vm0"}  # the command still runs
    assert vm0.wait_event("GUEST_PANICKED", timeout=5)["data"] == {"action": "pause"}
    assert vm0.execute("query-status")["return"]["status"] == "guest-panicked"
    assert "return" in vm1.execute("query-kvm")
    assert vm1.wait_event("MIGRATION", timeout=5)["data"] == {"status": "failed"}


def test_faults_from_the_config():
    binary = required_fleet_binary()
    from conftest import fleet_yaml, FLEET_QEMU_VERSION
    from qmp_raw import RawQMP

    def config(socket_dir):
        return fleet_yaml(socket_dir, {"pc": PC_TEMPLATE}, VMS, FLEET_QEMU_VERSION) + (
            "faults:\n"
            "  - {id: cfg, vm: vm1, command: query-uuid, times: 1, action: error, error-class: GenericError,"
            " desc: 'from the config'}\n")

    fleet = FleetProcess.on_config(binary, ["vm0", "vm1"], config)
    try:
        client = RawQMP(fleet.vm_socket("vm1"))
        client.negotiate()
        assert error_of(client.execute("query-uuid")) == ("GenericError", "from the config")
        assert "return" in client.execute("query-uuid")
        control = RawQMP(fleet.control)
        control.negotiate()
        [info] = control.execute("query-faults")["return"]
        assert (info["id"], info["fired"]) == ("cfg", 1)
        client.close()
        control.close()
    finally:
        fleet.close()


@pytest.mark.parametrize("arguments, desc", [
    ({"action": "error"}, "fault-add: 'desc': an error fault needs the error's text"),
    ({"action": "delay", "delay-ms": -1}, "fault-add: 'delay-ms': expected 0 to 3600000 milliseconds"),
    ({"action": "delay", "delay-ms": 1 << 62}, "fault-add: 'delay-ms': expected 0 to 3600000 milliseconds"),
    ({"action": "error", "desc": "x", "times": 0}, "fault-add: 'times': expected 1 to 2147483647"),
    ({"action": "error", "desc": "x", "probability": 1.5}, "fault-add: 'probability': expected a number from 0 to 1"),
    ({"action": "error", "desc": "x", "seed": 3}, "fault-add: 'seed': a seed needs a probability"),
    ({"action": "drop-reply", "desc": "x"}, "fault-add: 'desc': does not go with action 'drop-reply'"),
    ({"action": "event"}, "fault-add: 'event': an event fault needs the event"),
    ({"action": "event", "event": "block-io-error"}, "fault-add: 'device': a block-io-error needs the drive"),
    ({"action": "event", "event": "guest-panicked", "device": "d"}, "fault-add: 'device': only for event 'block-io-error'"),
    ({"action": "error", "desc": "x", "vm": "nope"}, "VM 'nope' not found"),
    ({"action": "nonsense"}, "Parameter 'action' does not accept value 'nonsense'"),
    ({"action": "error", "error-class": "Bogus", "desc": "x"}, "Parameter 'error-class' does not accept value 'Bogus'"),
])
def test_bad_faults_are_refused(faulty, arguments, desc):
    control = faulty.client("fleet")
    assert error_of(control.execute("fault-add", arguments)) == ("GenericError", desc)
    assert control.execute("query-faults")["return"] == []


def test_ids_are_unique_and_remove_needs_one(faulty):
    control = faulty.client("fleet")
    assert control.execute("fault-add", {"action": "error", "desc": "a"})["return"]["id"] == "fault-0"
    assert error_of(control.execute("fault-add", {"id": "fault-0", "action": "error", "desc": "b"})) == (
        "GenericError", "Fault 'fault-0' already exists")
    assert error_of(control.execute("fault-remove", {"id": "nope"})) == ("GenericError", "Fault 'nope' not found")
    assert "fault-add" in [c["name"] for c in control.execute("query-commands")["return"]]


def test_a_proxied_vm_is_refused():
    from conftest import short_tempdir
    from qmp_raw import RawQMP
    import shutil
    d = short_tempdir("qfp-")

    def config(socket_dir):
        return (f"socket-dir: {socket_dir}\nvms:\n  - {{name: real, backend: proxy, upstream: {d}/q.sock, "
                "launch: [qemu-system-x86_64, -machine, none, -nodefaults, -display, none]}\n")

    if shutil.which("qemu-system-x86_64") is None:
        pytest.skip("no qemu-system-x86_64")
    fleet = FleetProcess.on_config(required_fleet_binary(), ["real"], config)
    try:
        control = RawQMP(fleet.control)
        control.negotiate()
        assert error_of(control.execute("fault-add", {"vm": "real", "action": "disconnect"})) == (
            "GenericError", "VM 'real' is a proxied QEMU: faults act on simulated VMs")
        control.close()
    finally:
        fleet.close()
        shutil.rmtree(d, ignore_errors=True)
