"""Run state: stop, cont, system_reset, system_powerdown, prelaunch, and the
events they cause, which QEMU 7.2 sends before the command's reply."""
import re
import time

import pytest

import qmp_async

RUNNING = {"status": "running", "singlestep": False, "running": True}
PAUSED = {"status": "paused", "singlestep": False, "running": False}
PRELAUNCH = {"status": "prelaunch", "singlestep": False, "running": False}
#: How far an event's wall-clock timestamp may be from ours.
CLOCK_SLACK_SECONDS = 5


def negotiated(backend, raw_client, paused=False):
    client = raw_client(backend.vm(paused=paused))
    client.negotiate()
    return client


def assert_event(event, name, data=None):
    assert list(event) == (["timestamp", "event", "data"] if data is not None else ["timestamp", "event"])
    assert event["event"] == name
    assert list(event["timestamp"]) == ["seconds", "microseconds"]
    assert abs(event["timestamp"]["seconds"] - time.time()) < CLOCK_SLACK_SECONDS
    assert 0 <= event["timestamp"]["microseconds"] < 1_000_000
    if data is not None:
        assert event["data"] == data


def test_query_status_running(backend, raw_client):
    client = negotiated(backend, raw_client)
    reply = client.execute("query-status")
    assert reply == {"return": RUNNING}
    assert list(reply["return"]) == ["status", "singlestep", "running"]


def test_stop_sends_stop_before_reply(backend, raw_client):
    client = negotiated(backend, raw_client)
    events, reply = client.exchange({"execute": "stop", "id": "s"})
    assert reply == {"return": {}, "id": "s"}
    assert len(events) == 1
    assert_event(events[0], "STOP")
    assert client.execute("query-status") == {"return": PAUSED}


def test_stop_when_paused_is_silent(backend, raw_client):
    client = negotiated(backend, raw_client)
    client.exchange({"execute": "stop"})
    events, reply = client.exchange({"execute": "stop"})
    assert (events, reply) == ([], {"return": {}})
    assert client.pending_bytes(0.2) == b""
    assert client.execute("query-status") == {"return": PAUSED}


def test_cont_sends_resume_before_reply(backend, raw_client):
    client = negotiated(backend, raw_client)
    client.exchange({"execute": "stop"})
    events, reply = client.exchange({"execute": "cont"})
    assert reply == {"return": {}}
    assert [e["event"] for e in events] == ["RESUME"]
    assert_event(events[0], "RESUME")
    assert client.execute("query-status") == {"return": RUNNING}


def test_system_reset_sends_reset_before_reply(backend, raw_client):
    client = negotiated(backend, raw_client)
    events, reply = client.exchange({"execute": "system_reset"})
    assert reply == {"return": {}}
    assert len(events) == 1
    assert_event(events[0], "RESET", {"guest": False, "reason": "host-qmp-system-reset"})
    # (QEMU's SeaBIOS then resets the machine once more itself: a second
    # RESET with guest true may follow. Not asserted either way.)
    client.drain(0.2)
    assert client.execute("query-status") == {"return": RUNNING}


def test_system_reset_while_paused_goes_to_prelaunch(backend, raw_client):
    """Sic: QEMU 7.2 resets a stopped VM into prelaunch, not paused
    (main_loop_should_exit sets RUN_STATE_PRELAUNCH after a reset unless
    running). `cont` then resumes it as from -S."""
    client = negotiated(backend, raw_client)
    client.exchange({"execute": "stop"})
    events, reply = client.exchange({"execute": "system_reset"})
    assert reply == {"return": {}}
    assert [e["event"] for e in events] == ["RESET"]
    assert client.execute("query-status") == {"return": PRELAUNCH}
    events, reply = client.exchange({"execute": "cont"})
    assert [e["event"] for e in events] == ["RESUME"]
    assert client.execute("query-status") == {"return": RUNNING}


def test_prelaunch(backend, raw_client):
    client = negotiated(backend, raw_client, paused=True)
    assert client.execute("query-status") == {"return": PRELAUNCH}


def test_stop_in_prelaunch_is_silent_and_stays_prelaunch(backend, raw_client):
    client = negotiated(backend, raw_client, paused=True)
    events, reply = client.exchange({"execute": "stop"})
    assert (events, reply) == ([], {"return": {}})
    assert client.execute("query-status") == {"return": PRELAUNCH}


def test_cont_from_prelaunch_sends_resume(backend, raw_client):
    client = negotiated(backend, raw_client, paused=True)
    events, reply = client.exchange({"execute": "cont"})
    assert reply == {"return": {}}
    assert [e["event"] for e in events] == ["RESUME"]
    assert client.execute("query-status") == {"return": RUNNING}


def test_system_powerdown_sends_powerdown_before_reply(backend, raw_client):
    client = negotiated(backend, raw_client)
    events, reply = client.exchange({"execute": "system_powerdown"})
    assert reply == {"return": {}}
    assert len(events) == 1
    assert_event(events[0], "POWERDOWN")


def test_simulated_guest_powers_off_after_powerdown(fleet, raw_client):
    """Fleet only: QEMU without a guest OS ignores the ACPI button; the
    fleet's simulated ACPI guest shuts down after powerdown-delay-ms."""
    client = raw_client(fleet.vm_socket("vm0"))
    client.negotiate()
    client.exchange({"execute": "system_powerdown"})
    shutdown = client.wait_event("SHUTDOWN", timeout=5)
    assert_event(shutdown, "SHUTDOWN", {"guest": True, "reason": "guest-shutdown"})


HMP_INFO_STATUS = [
    pytest.param(False, [], "VM status: running\r\n", id="running"),
    pytest.param(False, ["stop"], "VM status: paused\r\n", id="paused"),
    pytest.param(True, [], "VM status: paused (prelaunch)\r\n", id="prelaunch"),
    pytest.param(True, ["cont"], "VM status: running\r\n", id="prelaunch-cont"),
]


@pytest.mark.parametrize("paused, commands, text", HMP_INFO_STATUS)
def test_hmp_info_status(backend, raw_client, paused, commands, text):
    client = negotiated(backend, raw_client, paused)
    for command in commands:
        client.execute(command)
    reply = client.execute("human-monitor-command", {"command-line": "info status"})
    assert reply == {"return": text}


def test_query_name(backend, raw_client):
    assert negotiated(backend, raw_client).execute("query-name") == {"return": {"name": "vm0"}}


def test_query_uuid(backend, raw_client):
    reply = negotiated(backend, raw_client).execute("query-uuid")
    assert list(reply["return"]) == ["UUID"]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", reply["return"]["UUID"])


def test_query_version(backend, raw_client):
    reply = negotiated(backend, raw_client).execute("query-version")["return"]
    assert list(reply) == ["qemu", "package"]
    assert list(reply["qemu"]) == ["micro", "minor", "major"]
    assert (reply["qemu"]["major"], reply["qemu"]["minor"]) == (7, 2)


def test_query_kvm(backend, raw_client):
    # -accel tcg: KVM is not enabled (whether /dev/kvm exists is the host's business).
    reply = negotiated(backend, raw_client).execute("query-kvm")["return"]
    assert list(reply) == ["enabled", "present"]
    assert reply["enabled"] is False and isinstance(reply["present"], bool)


def test_query_target(backend, raw_client):
    assert negotiated(backend, raw_client).execute("query-target") == {"return": {"arch": "x86_64"}}


def test_query_machines(backend, raw_client):
    machines = negotiated(backend, raw_client).execute("query-machines")["return"]
    by_name = {m["name"]: m for m in machines}
    assert "pc-i440fx-7.2" in by_name and "pc-q35-7.2" in by_name
    pc = by_name["pc-i440fx-7.2"]
    assert pc.get("alias") == "pc" and pc.get("is-default") is True
    for machine in machines:
        for key, kind in (("name", str), ("hotpluggable-cpus", bool), ("numa-mem-supported", bool),
                          ("cpu-max", int), ("deprecated", bool)):
            assert isinstance(machine[key], kind), (machine["name"], key)


def test_stop_cont_through_qemu_qmp(backend):
    path = backend.vm()

    async def body():
        client = await qmp_async.connect(path)
        try:
            assert await qmp_async.execute(client, "stop") == {}
            assert (await qmp_async.next_event(client, "STOP"))["event"] == "STOP"
            assert (await qmp_async.execute(client, "query-status"))["status"] == "paused"
            assert await qmp_async.execute(client, "cont") == {}
            await qmp_async.next_event(client, "RESUME")
            assert (await qmp_async.execute(client, "query-status"))["running"] is True
        finally:
            await client.disconnect()

    qmp_async.run(body())
