"""The commands and schema that libvirt 9.0's capability probe looks for
(its virQEMUCapsQMPSchemaQueries and virQEMUCapsCommands), sent to QEMU 7.2
(-machine pc, TCG) and to a fleet VM with the block, display and migration
plugins: each reply must equal QEMU's. What libvirt then concludes is
checked in test_libvirt.py (its capability flags)."""
import base64
import os
import secrets
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import PC_TEMPLATE
from test_probe import ask_open

PLUGINS = {"block": {}, "display": {}, "migration": {}, "memory": {}}

#: Replies that depend on nothing but the request.
QUERIES = [
    ("query-stats", {"target": "vm"}),
    ("query-stats", {"target": "vcpu", "providers": [{"provider": "kvm", "names": ["halt_poll_fail_ns"]}]}),
    ("query-stats", {"target": "nosuch"}),
    ("query-stats-schemas", None),
    ("query-stats-schemas", {"provider": "kvm"}),
    ("set-numa-node", {"type": "node", "nodeid": 0}),
    ("set-numa-node", {"type": "hmat-lb", "initiator": 0, "target": 0, "hierarchy": "memory",
                       "data-type": "access-latency", "latency": 5}),
    ("set-numa-node", {"type": "hmat-lb", "initiator": 0}),
    ("sev-inject-launch-secret", {"packet-header": "aa", "secret": "bb"}),
    ("sev-inject-launch-secret", {"packet-header": "aa"}),
    ("query-display-options", None),
    ("query-vnc", None),
    ("query-dirty-rate", None),
    ("calc-dirty-rate", {"calc-time": 0}),
    ("calc-dirty-rate", {"calc-time": 61}),
    ("calc-dirty-rate", {"calc-time": 1, "sample-pages": 5}),
    # (QEMU 7.2 under TCG crashes on the other modes once past these checks.)
    ("calc-dirty-rate", {"calc-time": 1, "sample-pages": 200, "mode": "dirty-ring"}),
    ("calc-dirty-rate", {"calc-time": 1, "sample-pages": 20000, "mode": "dirty-ring"}),
    ("calc-dirty-rate", {"calc-time": 1, "mode": "nosuch"}),
    # Machine-level commands every board answers; the savers write the
    # (zero) guest memory to a file.
    ("query-current-machine", None),
    ("inject-nmi", None),
    ("query-memory-size-summary", None),
    ("pmemsave", {"val": 0, "size": 4096, "filename": "/tmp/qmpfleet-caps-pmem.bin"}),
    ("memsave", {"val": 0, "size": 16, "filename": "/tmp/qmpfleet-caps-mem.bin"}),
    ("memsave", {"val": 0, "size": 16, "filename": "/tmp/qmpfleet-caps-mem.bin", "cpu-index": 7}),
    ("pmemsave", {"val": 0, "size": 16, "filename": "/tmp/no-such-dir/pmem.bin"}),
    # set-action changes what later shutdowns, reboots and panics do (the
    # behaviour is in LifecycleActionTests; here the replies and checks).
    ("set-action", {"shutdown": "pause", "reboot": "shutdown", "panic": "none", "watchdog": "inject-nmi"}),
    ("set-action", {}),
    ("set-action", {"shutdown": "bogus"}),
    ("set-action", {"panic": "exit-failure", "reboot": 1}),
    ("watchdog-set-action", {"action": "pause"}),
    ("watchdog-set-action", None),
    # With reboot=shutdown (above) system_reset shuts the VM down.
    ("system_reset", None),
    ("query-status", None),
]


def both(qemu_vm, fleet_factory, requests, qemu_extra=()):
    theirs = ask_open(qemu_vm("pc", extra=qemu_extra).socket, requests)
    fleet = fleet_factory(templates={"pc": dict(PC_TEMPLATE, plugins=PLUGINS)})
    return theirs, ask_open(fleet.vm_socket("vm0"), requests), fleet


def differences(requests, ours, theirs):
    return [(request, mine, real) for request, mine, real in zip(requests, ours, theirs) if mine != real]


def test_queries_answer_as_qemu_72(qemu_vm, fleet_factory):
    # QEMU with the template's RAM, for query-memory-size-summary.
    theirs, ours, _ = both(qemu_vm, fleet_factory, QUERIES, qemu_extra=("-m", "1G"))
    assert not differences(QUERIES, ours, theirs)


def test_device_add_declares_json_cli_hotplug(fleet_factory):
    fleet = fleet_factory(templates={"pc": dict(PC_TEMPLATE, plugins=PLUGINS)})
    schema = ask_open(fleet.vm_socket("vm0"), [("query-qmp-schema", None)])[0]["return"]
    device_add = next(e for e in schema if e["name"] == "device_add")
    assert device_add["features"] == ["json-cli", "json-cli-hotplug"]


def without_start_time(reply):
    if isinstance(reply.get("return"), dict):
        reply["return"].pop("start-time", None)
    return reply


def test_dirty_rate_is_measured_over_calc_time(qemu_vm, fleet_factory):
    """A measurement runs calc-time seconds; meanwhile another is refused;
    then it is `measured` (the simulated guest dirties no memory, as an
    idle QEMU guest: 0 MB/s)."""
    start = [("calc-dirty-rate", {"calc-time": 1, "sample-pages": 4096}),
             ("calc-dirty-rate", {"calc-time": 1})]
    qemu = qemu_vm("pc")
    fleet = fleet_factory(templates={"pc": dict(PC_TEMPLATE, plugins=PLUGINS)})
    ours_path = fleet.vm_socket("vm0")
    # QEMU's measuring thread sets `measuring` once it runs, so a second
    # request at once may still slip in there (and replace the first): QEMU
    # gets one. The simulation measures from the first request's reply on.
    replies = [ask_open(qemu.socket, start[:1]), ask_open(ours_path, start)]
    assert replies[0][0] == replies[1][0] == {"return": {}}
    assert replies[1][1]["error"]["desc"] == "the dirty rate is already being measured."
    assert ask_open(ours_path, [("query-dirty-rate", None)])[0]["return"]["status"] == "measuring"
    # Not before calc-time has passed; QEMU under load may take longer.
    started = time.monotonic()
    final = []
    for path in (qemu.socket, ours_path):
        while True:
            reply = without_start_time(ask_open(path, [("query-dirty-rate", None)])[0])
            if reply["return"]["status"] == "measured" or time.monotonic() - started > 20:
                break
            time.sleep(0.1)
        final.append(reply)
    assert time.monotonic() - started >= 0.9
    assert final[0] == final[1]
    assert final[1]["return"] == {"status": "measured", "sample-pages": 4096, "dirty-rate": 0,
                                  "mode": "page-sampling", "calc-time": 1}


@pytest.fixture
def images():
    directory = tempfile.mkdtemp(prefix="caps-", dir="/tmp")
    run = lambda *args: subprocess.run(["qemu-img", "create", "-q", *args], check=True, timeout=30)
    run("-f", "raw", os.path.join(directory, "base.raw"), "1M")
    run("-f", "qcow2", "-b", os.path.join(directory, "base.raw"), "-F", "raw", os.path.join(directory, "top.qcow2"), "1M")
    run("-f", "raw", os.path.join(directory, "other.raw"), "1M")
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def test_blockdev_reopen_as_qemu_72(qemu_vm, fleet_factory, images):
    if shutil.which("qemu-img") is None:
        pytest.skip("qemu-img is not installed")
    base, top, other = (os.path.join(images, n) for n in ("base.raw", "top.qcow2", "other.raw"))

    def reopen(*options):
        return ("blockdev-reopen", {"options": list(options)})
    bf = {"driver": "file", "node-name": "bf", "filename": base}
    raw = lambda file, **kw: dict({"driver": "raw", "node-name": "base", "file": file}, **kw)
    qcow2 = lambda **kw: dict({"driver": "qcow2", "node-name": "top", "file": "tf"}, **kw)
    requests = [
        ("blockdev-add", dict(bf, **{"read-only": True})),
        ("blockdev-add", raw("bf", **{"read-only": True})),
        ("blockdev-add", {"driver": "file", "node-name": "tf", "filename": top}),
        ("blockdev-add", qcow2(backing="base")),
        reopen({"driver": "raw", "file": "bf"}),
        reopen(dict(raw("bf"), **{"node-name": "nope"})),
        reopen({"driver": "qcow2", "node-name": "base", "file": "bf"}),
        reopen({"driver": "raw", "node-name": "base"}),
        reopen(raw("tf")),
        reopen(raw("bf", **{"read-only": False})),
        reopen(dict(bf, filename=other)),
        reopen(qcow2()),
        reopen(qcow2(backing=None)),
        reopen(qcow2(backing="base")),
        reopen(qcow2(backing="nosuch")),
        reopen(dict(qcow2(backing="base"), file={"driver": "file", "filename": top})),
        reopen(qcow2(backing="top")),
        reopen(raw("bf"), raw("bf")),
        reopen(dict(bf, **{"read-only": True}), raw("bf", **{"read-only": True})),
        ("query-named-block-nodes", {"flat": True}),
        # A writable device pins its nodes read-write.
        ("blockdev-add", {"driver": "file", "node-name": "of", "filename": other}),
        ("blockdev-add", {"driver": "raw", "node-name": "o", "file": "of"}),
        ("device_add", {"driver": "virtio-blk-pci", "drive": "o", "id": "d0"}),
        reopen({"driver": "raw", "node-name": "o", "file": "of", "read-only": True}),
        reopen({"driver": "file", "node-name": "of", "filename": other, "read-only": True}),
        reopen({"driver": "raw", "node-name": "o", "file": "bf"}),
        reopen({"driver": "raw", "node-name": "o", "file": "o"}),
    ]
    theirs, ours, _ = both(qemu_vm, fleet_factory, requests)
    # Compare the nodes' read-only state, not the rest of query-named-block-nodes.
    for replies in (theirs, ours):
        for reply in replies:
            if isinstance(reply.get("return"), list):
                reply["return"] = sorted((n["node-name"], n["ro"]) for n in reply["return"])
    assert not differences(requests, ours, theirs)


def test_secret_and_iothread_objects_as_qemu_72(qemu_vm, fleet_factory, images):
    """object-add of QEMU 7.2's QAPI types: secrets loaded from data or a
    file, base64, AES-256-CBC with keyid and iv (libvirt's way), iothreads."""
    key = secrets.token_bytes(32)
    key_file = os.path.join(images, "master.key")
    with open(key_file, "wb") as f:
        f.write(key)
    iv = secrets.token_bytes(16)
    encrypted = subprocess.run(["openssl", "enc", "-aes-256-cbc", "-K", key.hex(), "-iv", iv.hex()],
                               input=b"hello-secret", capture_output=True, check=True).stdout
    ct, iv64 = base64.b64encode(encrypted).decode(), base64.b64encode(iv).decode()
    secret = lambda id, **props: ("object-add", dict({"qom-type": "secret", "id": id}, **props))
    requests = [
        secret("mk", format="raw", file=key_file),
        secret("s1", data=ct, keyid="mk", iv=iv64, format="base64"),
        ("qom-get", {"path": "/objects/s1", "property": "data"}),
        secret("s2", data=ct, keyid="mk"),
        secret("s3", data=ct, keyid="mk", iv="AAAA"),
        secret("s4", data="QUJD", keyid="mk", iv=iv64),
        secret("s5", data=ct, keyid="nokey", iv=iv64),
        secret("s6", data=ct, keyid="mk", iv=iv64),
        secret("s7", data="a!b", format="base64"),
        secret("s8", data="a", file=key_file),
        secret("s9"),
        secret("s10", data="abc"),
        secret("s10", data="abc"),
        secret("s11", data="abc", keyid="s10", iv=iv64),
        ("object-add", {"qom-type": "iothread", "id": "io1", "thread-pool-max": 8, "poll-max-ns": 100}),
        ("qom-get", {"path": "/objects/io1", "property": "thread-pool-max"}),
        ("object-add", {"qom-type": "iothread", "id": "io2", "thread-pool-min": 100}),
        ("object-add", {"qom-type": "iothread", "id": "io3", "poll-grow": -1}),
        ("object-add", {"qom-type": "iothread", "id": "io4", "aio-max-batch": "x"}),
        ("object-add", {"qom-type": "sev-guest", "id": "sev0", "cbitpos": 47, "reduced-phys-bits": 1, "kernel-hashes": True}),
        ("qom-get", {"path": "/objects/sev0", "property": "kernel-hashes"}),
        ("object-add", {"qom-type": "sev-guest", "id": "sev1", "cbitpos": 47}),
        ("object-add", {"qom-type": "sev-guest", "id": "sev1", "reduced-phys-bits": -1}),
        ("object-add", {"qom-type": "nosuch", "id": "x"}),
        ("object-add", {"qom-type": "memory-backend-ram", "id": "m1", "props": {"size": 1048576}}),
        ("object-del", {"id": "mk"}),
    ]
    theirs, ours, _ = both(qemu_vm, fleet_factory, requests)
    assert not differences(requests, ours, theirs)


def test_iothreads_are_listed(qemu_vm, fleet_factory):
    requests = [("object-add", {"qom-type": "iothread", "id": "io1", "poll-max-ns": 100}),
                ("object-add", {"qom-type": "iothread", "id": "io2"}),
                ("query-iothreads", None), ("object-del", {"id": "io1"}), ("query-iothreads", None)]
    theirs, ours, _ = both(qemu_vm, fleet_factory, requests)
    for replies in (theirs, ours):
        for reply in replies:
            if isinstance(reply.get("return"), list):
                reply["return"] = sorted((t["id"], t["poll-max-ns"], t["poll-grow"], t["aio-max-batch"]) for t in reply["return"])
    assert not differences(requests, ours, theirs)
