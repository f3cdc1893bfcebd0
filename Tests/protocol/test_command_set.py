"""Issue 18: a VM of each config template lists exactly QEMU 7.2's command
and event set for its machine, as recorded from real QEMU by
`scripts/record-qemu-data` (Resources/qemu-7.2/qmp-schema.json):

- the names in `query-commands`,
- the command names and the event names in `query-qmp-schema`,

each equal to QEMU's, plus the seed's commands that 7.2 removed (still
served: see test_seed_coverage.py). The templates are config/fleet.yaml's
(pc, q35 and arm, whose machine is qemu-system-aarch64's virt).
"""
import json
import os
import re

import pytest

import qmp_async
from conftest import REPO_ROOT, FleetProcess, required_fleet_binary

RECORDED = os.path.join(REPO_ROOT, "Sources", "QEMUReference", "Resources", "qemu-7.2", "qmp-schema.json")
SEED_COMMANDS = os.path.join(REPO_ROOT, "Tests", "protocol", "data", "seed-commands.txt")
CONFIG = os.path.join(REPO_ROOT, "config", "fleet.yaml")
#: Template -> the recorded QEMU machine it simulates.
TEMPLATES = {"pc": "pc", "q35": "q35", "arm": "virt"}

#: Commands of QEMU before 7.2 that are not in the seed's list but that the
#: fleet served before issue 18, named with the seed's in the issue ("cpu,
#: cpu-add, block_passwd, migrate-set-cache-size, ..."): still served.
LEGACY_COMMANDS = {
    "cpu-add",                   # QEMU <= 4.2 (replaced by device_add of a CPU)
    "query-migrate-cache-size",  # QEMU <= 6.2 (xbzrle-cache-size parameter)
    "query-events",              # QEMU <= 6.2 (query-qmp-schema lists events)
}


def recorded():
    with open(RECORDED) as f:
        return json.load(f)


def seed_commands_removed_in_7_2(qemu_commands):
    with open(SEED_COMMANDS) as f:
        seed = {line.strip() for line in f if line.strip() and not line.startswith("#")}
    return seed - qemu_commands


def default_config(socket_dir):
    """config/fleet.yaml with one VM per template in a private socket dir."""
    with open(CONFIG) as f:
        text = f.read()
    text = re.sub(r"(?m)^socket-dir: .*$", f"socket-dir: {socket_dir}", text, count=1)
    text = text[:text.index("\nvms:")] + "\nvms:\n" + "".join(f"  - {{name: {t}0, template: {t}}}\n" for t in TEMPLATES)
    return text


@pytest.fixture(scope="module")
def fleet():
    binary = required_fleet_binary()
    fleet = FleetProcess.on_config(binary, [f"{t}0" for t in TEMPLATES], default_config)
    yield fleet
    fleet.close()


async def command_sets(path):
    client = await qmp_async.connect(path)
    commands = {c["name"] for c in await qmp_async.execute(client, "query-commands")}
    schema = await qmp_async.execute(client, "query-qmp-schema")
    await client.disconnect()
    return (commands, {e["name"] for e in schema if e["meta-type"] == "command"},
            {e["name"] for e in schema if e["meta-type"] == "event"})


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_template_lists_qemu_7_2_command_and_event_set(fleet, template):
    data = recorded()
    machine = data["machines"][TEMPLATES[template]]
    schema = data["schemas"][machine["schema"]]
    qemu_commands = set(machine["commands"])
    qemu_schema_commands = {e["name"] for e in schema if e["meta-type"] == "command"}
    qemu_events = {e["name"] for e in schema if e["meta-type"] == "event"}
    assert qemu_commands == qemu_schema_commands
    kept = seed_commands_removed_in_7_2(qemu_commands) | LEGACY_COMMANDS

    listed, schema_commands, events = qmp_async.run(command_sets(fleet.vm_socket(f"{template}0")))
    for name, have, want in (("query-commands", listed, qemu_commands),
                             ("query-qmp-schema commands", schema_commands, qemu_commands),
                             ("query-qmp-schema events", events, qemu_events)):
        missing = want - have
        extra = have - want - kept
        assert not missing and not extra, f"{template} {name}: missing {sorted(missing)}, not in 7.2 {sorted(extra)}"
    assert listed == schema_commands
