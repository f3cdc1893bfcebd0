"""Conformance: one recorded request sequence replayed against real QEMU 7.2
and against a fleet VM, replies compared by shape (qmp_shape): same keys and
JSON types, the same error class and text, the same events in the same
order, the same id echo. Values may differ (UUIDs, timestamps, versions).

Events that a command causes come before its reply; those are compared.
Events that arrive on their own after a reply (QEMU's SeaBIOS resetting the
machine again after system_reset, the fleet's simulated guest powering off)
are drained during the step's settle time and not compared: a guest OS is
not part of the protocol.
"""
import pytest

from qmp_shape import events_diff, reply_diff, shape_diff

# Compares events inside fixed settle windows (QEMU's RESET after system_reset):
# runs alone (see pytest.ini: serial), not beside other files.
pytestmark = pytest.mark.serial

#: (request, settle seconds). Requests are dicts, or bytes sent verbatim.
BASIC_SEQUENCE = [
    ({"execute": "query-status", "id": "before"}, 0),
    ({"execute": "qmp_capabilities", "id": 1}, 0),
    ({"execute": "qmp_capabilities", "id": 2}, 0),
    ({"execute": "query-status", "id": 3}, 0),
    ({"execute": "query-name", "id": 4}, 0),
    ({"execute": "query-uuid", "id": 5}, 0),
    ({"execute": "query-version", "id": 6}, 0),
    ({"execute": "query-kvm", "id": 7}, 0),
    ({"execute": "query-target", "id": 8}, 0),
    ({"execute": "query-machines", "id": 9}, 0),
    ({"execute": "stop", "id": 10}, 0),
    ({"execute": "stop", "id": 11}, 0),
    ({"execute": "query-status", "id": 12}, 0),
    ({"execute": "human-monitor-command", "arguments": {"command-line": "info status"}, "id": 13}, 0),
    ({"execute": "cont", "id": 14}, 0),
    ({"execute": "query-status", "id": 15}, 0),
    ({"execute": "system_reset", "id": 16}, 0.3),
    ({"execute": "query-status", "id": 17}, 0),
    ({"execute": "system_powerdown", "id": 18}, 0),
    ({"execute": "no-such-command", "id": 19}, 0),
    ({"execute": "query-status", "arguments": {"x": 1}, "id": 20}, 0),
    ({"execute": "human-monitor-command", "id": 21}, 0),
    ({"execute": "human-monitor-command", "arguments": {"command-line": 1}, "id": 22}, 0),
    ({"execute": 1, "id": 23}, 0),
    ({"execute": "query-name", "arguments": [], "id": 24}, 0),
    ({"execute": "query-name", "extra": True, "id": 25}, 0),
    (b'{"execute": }', 0),
    (b"[1]", 0),
    (b'{"execute": "query-name", "id": [1, {"a": null}, 2.5, false]}', 0),
    ({"execute": "query-name", "id": 26}, 0),
]

PRELAUNCH_SEQUENCE = [
    ({"execute": "qmp_capabilities"}, 0),
    ({"execute": "query-status", "id": 1}, 0),
    ({"execute": "stop", "id": 2}, 0),
    ({"execute": "query-status", "id": 3}, 0),
    ({"execute": "human-monitor-command", "arguments": {"command-line": "info status"}, "id": 4}, 0),
    ({"execute": "cont", "id": 5}, 0),
    ({"execute": "query-status", "id": 6}, 0),
    ({"execute": "stop", "id": 7}, 0),
    ({"execute": "system_reset", "id": 8}, 0.3),
    ({"execute": "query-status", "id": 9}, 0),
    ({"execute": "cont", "id": 10}, 0),
]


def replay(client, sequence):
    """[(request, events before the reply, reply)] for each step."""
    greeting = client.greeting()
    transcript = [("greeting", [], greeting)]
    for request, settle in sequence:
        events, reply = client.exchange(request)
        transcript.append((request, events, reply))
        if settle:
            client.drain(settle)
    return transcript


def transcript_diff(expected, actual):
    found = []
    for (request, events_a, reply_a), (_, events_b, reply_b) in zip(expected, actual):
        label = request if isinstance(request, str) else repr(request)[:90]
        if request == "greeting":
            problems = shape_diff(reply_a, reply_b)
        else:
            problems = events_diff(events_a, events_b) + reply_diff(reply_a, reply_b)
        found += [f"{label}: {p}" for p in problems]
    if len(expected) != len(actual):
        found.append(f"{len(expected)} steps vs {len(actual)}")
    return found


@pytest.mark.parametrize("paused, sequence", [(False, BASIC_SEQUENCE), (True, PRELAUNCH_SEQUENCE)],
                         ids=["running", "prelaunch"])
def test_replayed_sequence_matches_qemu(qemu_vm, fleet_factory, raw_client, paused, sequence):
    name = "pre0" if paused else "vm0"
    reference = replay(raw_client(qemu_vm("pc", paused=paused, name=name).socket), sequence)
    fleet = fleet_factory()
    candidate = replay(raw_client(fleet.vm_socket(name)), sequence)
    problems = transcript_diff(reference, candidate)
    assert not problems, "fleet differs from QEMU 7.2:\n  " + "\n  ".join(problems)


def test_qemu_replays_the_same_way_twice(qemu_vm, raw_client):
    """The sequence itself is deterministic in shape on QEMU: otherwise the
    comparison above would measure noise."""
    first = replay(raw_client(qemu_vm("pc", name="vm0").socket), BASIC_SEQUENCE)
    second = replay(raw_client(qemu_vm("pc", name="vm0").socket), BASIC_SEQUENCE)
    assert transcript_diff(first, second) == []


# The comparison itself: it must see every kind of difference it claims to.

def test_shape_ignores_values_but_not_types():
    assert shape_diff({"return": {"UUID": "a"}}, {"return": {"UUID": "b"}}) == []
    assert shape_diff({"a": 1}, {"a": 1.0}) == ["$.a: integer vs number"]
    assert shape_diff({"a": True}, {"a": 1}) == ["$.a: boolean vs integer"]
    assert shape_diff({"a": None}, {"a": "x"}) == ["$.a: null vs string"]


def test_shape_sees_missing_and_extra_keys_at_depth():
    assert shape_diff({"a": {"b": {"c": 1}}}, {"a": {"b": {"d": 1}}}) == [
        "$.a.b: key c only in the first", "$.a.b: key d only in the second"]


def test_shape_merges_array_elements():
    machines = [{"name": "pc", "alias": "x"}, {"name": "q35"}]
    assert shape_diff(machines, [{"name": "pc", "alias": "y"}]) == []
    assert shape_diff(machines, [{"name": "pc"}]) == ["$[]: key alias only in the first"]
    assert shape_diff([1, "a"], ["b", 2]) == []
    assert shape_diff([1, "a"], [2]) == ["$[]: integer|string vs integer"]
    assert shape_diff([], [1]) == ["$[][]: nothing (empty array) vs integer"]
    assert shape_diff([], []) == []


def test_shape_ignore_patterns():
    assert shape_diff({"a": [{"b": 1, "c": 2}]}, {"a": [{"b": 1}]}, ignore=["$.a[].c"]) == []


def test_reply_diff_compares_errors_by_class_and_text():
    a = {"id": 1, "error": {"class": "GenericError", "desc": "x"}}
    assert reply_diff(a, dict(a)) == []
    assert reply_diff(a, {"id": 1, "error": {"class": "CommandNotFound", "desc": "x"}}) == [
        "$.error.class: 'GenericError' vs 'CommandNotFound'"]
    assert reply_diff(a, {"id": 1, "error": {"class": "GenericError", "desc": "y"}}) == [
        "$.error.desc: 'x' vs 'y'"]
    assert reply_diff(a, {"return": {}, "id": 1})[0].startswith("$: error vs return")


def test_reply_diff_checks_id_and_key_order():
    assert reply_diff({"return": {}, "id": 1}, {"return": {}, "id": "1"}) == ["$.id: 1 vs '1'"]
    assert reply_diff({"return": {}, "id": 1}, {"return": {}, "id": True}) == ["$.id: 1 vs True"]
    assert reply_diff({"return": {}, "id": 1}, {"return": {}}) == ["$.id: present True vs False"]
    assert reply_diff({"return": {}, "id": 1}, {"id": 1, "return": {}}) == [
        "$: key order ['return', 'id'] vs ['id', 'return']"]


def test_events_diff_compares_names_in_order_and_shapes():
    stop = {"timestamp": {"seconds": 1, "microseconds": 2}, "event": "STOP"}
    resume = {"timestamp": {"seconds": 3, "microseconds": 4}, "event": "RESUME"}
    assert events_diff([stop, resume], [dict(stop), dict(resume)]) == []
    assert events_diff([stop, resume], [resume, stop]) == ["events: ['STOP', 'RESUME'] vs ['RESUME', 'STOP']"]
    assert events_diff([stop], []) == ["events: ['STOP'] vs []"]
    with_data = dict(stop, data={"guest": False})
    assert events_diff([stop], [with_data]) == ["$events[0]: key data only in the second"]
