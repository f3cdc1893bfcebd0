"""Live migration between two simulated VMs, side by side with QEMU 7.2
migrating between two `qemu-system-x86_64 -machine pc -accel tcg -S
-nodefaults -m 64` processes (the target with `-incoming defer`).

Each test drives both pairs with the same sequence and compares what each
monitor sent (events in order, with their data; replies by kind and error
text). The simulated pair lives in one fleet: the source is a 64 MiB pc VM,
the target the same with `incoming: defer`."""
import os
import socket
import time

import pytest

from conftest import FleetProcess, QemuProcess, missing, required_fleet_binary, QEMU_PROGRAM, short_tempdir
from qmp_raw import RawQMP

import shutil

#: How long a migration step may take before the test fails.
STEP_TIMEOUT_SECONDS = 20.0
#: The capabilities libvirt sets for a plain precopy migration it watches.
LIBVIRT_CAPABILITIES = ["events", "pause-before-switchover"]
#: libvirt's "unlimited" bandwidth (QEMU_DOMAIN_MIG_BANDWIDTH_MAX MiB/s, in bytes).
UNLIMITED_BANDWIDTH = (2**63 - 1) // (1024 * 1024) * (1024 * 1024)
#: Slow enough that a 64 MiB migration is still running when the test acts.
SLOW_BANDWIDTH = 20000


class Monitor:
    """A QMP connection that keeps every event, in order, as (name, data)."""

    def __init__(self, path):
        self.qmp = RawQMP(path, timeout=STEP_TIMEOUT_SECONDS)
        self.qmp.read_message()
        self.events = []
        self.closed = False
        self.execute("qmp_capabilities")

    def _take(self, message):
        self.events.append((message["event"], message.get("data")))

    def execute(self, command, arguments=None, fds=()):
        message = {"execute": command}
        if arguments is not None:
            message["arguments"] = arguments
        if fds:
            socket.send_fds(self.qmp.sock, [RawQMP.encode(message)], list(fds))
        else:
            self.qmp.send(message)
        reply = self.qmp.read_reply()
        for event in self.qmp.events:
            self._take(event)
        self.qmp.events.clear()
        return reply

    def ok(self, command, arguments=None, fds=()):
        reply = self.execute(command, arguments, fds)
        assert "return" in reply, (command, reply)
        return reply["return"]

    def poll(self, seconds):
        """Reads events for `seconds`; notes a closed connection."""
        deadline = time.monotonic() + seconds
        while not self.closed and time.monotonic() < deadline:
            try:
                self._take(self.qmp.read_message(timeout=max(0.01, deadline - time.monotonic())))
            except TimeoutError:
                return
            except (ConnectionError, OSError):
                self.closed = True

    def wait_for(self, name, data=None, timeout=STEP_TIMEOUT_SECONDS):
        deadline = time.monotonic() + timeout
        while (name, data) not in self.events if data is not None else name not in [e for e, _ in self.events]:
            if self.closed or time.monotonic() > deadline:
                raise AssertionError(f"no {name} {data} within {timeout}s; events {self.events}")
            self.poll(0.05)

    def migration_events(self):
        return [(name, data) for name, data in self.events if name in ("MIGRATION", "MIGRATION_PASS", "STOP", "RESUME")]

    def close(self):
        self.qmp.close()


class QemuPair:
    """Two QEMU 7.2 processes: source paused (-S), target -incoming defer."""
    kind = "qemu"

    def __init__(self):
        if shutil.which(QEMU_PROGRAM) is None:
            missing(f"{QEMU_PROGRAM} is not installed")
        self.dir = short_tempdir("qm-")
        self.source_process = QemuProcess("pc", paused=True, extra=["-m", "64"])
        self.target_process = QemuProcess("pc", paused=True, extra=["-m", "64", "-incoming", "defer"])
        self.source = Monitor(self.source_process.socket)
        self.target = Monitor(self.target_process.socket)

    def close(self):
        for monitor in (self.source, self.target):
            monitor.close()
        self.source_process.close()
        self.target_process.close()
        shutil.rmtree(self.dir, ignore_errors=True)


SIM_PLUGINS = "{migration: {}}"


def sim_config(plugins=SIM_PLUGINS, extra=""):
    def config(socket_dir):
        common = f"machine: pc, start-paused: true, plugins: {plugins}{extra or ', memory: 64M'}"
        return (f"socket-dir: {socket_dir}\nvms:\n"
                f"  - {{name: src, {common}}}\n"
                f"  - {{name: dst, incoming: defer, {common}}}\n")
    return config


class FleetPair:
    """Two simulated VMs of one fleet, the same pair."""
    kind = "fleet"

    def __init__(self, plugins=SIM_PLUGINS, extra=""):
        self.fleet = FleetProcess.on_config(required_fleet_binary(), ["src", "dst"], sim_config(plugins, extra))
        self.dir = self.fleet.dir
        self.source = Monitor(self.fleet.vm_socket("src"))
        self.target = Monitor(self.fleet.vm_socket("dst"))

    def close(self):
        for monitor in (self.source, self.target):
            monitor.close()
        self.fleet.close()


@pytest.fixture
def pairs():
    made = []

    def make(kind, **options):
        pair = QemuPair() if kind == "qemu" else FleetPair(**options)
        made.append(pair)
        return pair

    yield make
    for pair in made:
        pair.close()


def capabilities(names):
    return {"capabilities": [{"capability": name, "state": True} for name in names]}


def libvirt_sequence(pair):
    """What libvirt sends for a managed precopy migration, and what it checks
    on the way; returns the source's query-migrate in pre-switchover and after."""
    src, dst = pair.source, pair.target
    assert dst.ok("query-status")["status"] == "inmigrate"
    for monitor in (src, dst):
        assert monitor.ok("migrate-set-capabilities", capabilities(LIBVIRT_CAPABILITIES)) == {}
    assert src.ok("migrate-set-parameters", {"max-bandwidth": UNLIMITED_BANDWIDTH, "downtime-limit": 300}) == {}
    uri = f"unix:{pair.dir}/migrate.sock"
    assert dst.ok("migrate-incoming", {"uri": uri}) == {}
    assert src.ok("cont") == {}
    assert src.ok("migrate", {"uri": uri}) == {}
    src.wait_for("MIGRATION", {"status": "pre-switchover"})
    during = src.ok("query-migrate")
    assert src.ok("query-status")["status"] == "finish-migrate"
    assert src.ok("migrate-continue", {"state": "pre-switchover"}) == {}
    src.wait_for("MIGRATION", {"status": "completed"})
    dst.wait_for("MIGRATION", {"status": "completed"})
    after = src.ok("query-migrate")
    assert src.ok("query-status")["status"] == "postmigrate"
    assert dst.ok("query-status")["status"] == "paused"
    assert dst.ok("cont") == {}
    dst.wait_for("RESUME")
    assert dst.ok("query-status")["status"] == "running"
    return during, after


RAM_KEYS = {"dirty-pages-rate", "dirty-sync-count", "dirty-sync-missed-zero-copy", "downtime-bytes", "duplicate", "mbps",
            "multifd-bytes", "normal", "normal-bytes", "page-size", "pages-per-second", "postcopy-bytes",
            "postcopy-requests", "precopy-bytes", "remaining", "skipped", "total", "transferred"}


def test_libvirt_sequence_events_match_qemu(pairs):
    """The libvirt-style sequence: both sides' MIGRATION, MIGRATION_PASS,
    STOP and RESUME events in the order QEMU 7.2 sends them, and
    query-migrate's shape in pre-switchover and after completion."""
    results = {}
    for kind in ("qemu", "fleet"):
        pair = pairs(kind)
        during, after = libvirt_sequence(pair)
        pair.source.poll(0.2)
        pair.target.poll(0.2)
        results[kind] = (pair.source.migration_events(), pair.target.migration_events(), during, after)
    qemu, fleet = results["qemu"], results["fleet"]
    assert fleet[0] == qemu[0], "source events"
    assert fleet[1] == qemu[1], "target events"
    for index in (2, 3):
        assert set(fleet[index]) == set(qemu[index])
        assert set(fleet[index]["ram"]) == set(qemu[index]["ram"]) == RAM_KEYS
    during, after = fleet[2], fleet[3]
    assert during["ram"]["total"] == 64 << 20 and after["ram"]["remaining"] == 0
    assert after["ram"]["transferred"] >= 64 << 20


def test_cancel_matches_qemu(pairs):
    """migrate_cancel while RAM is still going: cancelling, cancelled, the
    source runs on; the target's stream breaks (failed) and it exits."""
    results = {}
    for kind in ("qemu", "fleet"):
        pair = pairs(kind)
        src, dst = pair.source, pair.target
        for monitor in (src, dst):
            monitor.ok("migrate-set-capabilities", capabilities(["events"]))
        src.ok("migrate-set-parameters", {"max-bandwidth": SLOW_BANDWIDTH})
        uri = f"unix:{pair.dir}/cancel.sock"
        dst.ok("migrate-incoming", {"uri": uri})
        src.ok("cont")
        src.ok("migrate", {"uri": uri})
        dst.wait_for("MIGRATION", {"status": "active"})
        first = src.ok("query-migrate")
        time.sleep(0.3)
        second = src.ok("query-migrate")
        assert second["ram"]["transferred"] > first["ram"]["transferred"], kind
        again = src.execute("migrate", {"uri": uri})
        assert src.ok("migrate_cancel") == {}
        src.wait_for("MIGRATION", {"status": "cancelled"})
        dst.poll(1.0)
        results[kind] = (src.migration_events(), dst.migration_events(), dst.closed, again,
                         src.ok("query-migrate"), src.ok("query-status")["status"])
    assert results["fleet"] == results["qemu"]
    assert results["fleet"][2] is True, "the target ends as QEMU exits"


@pytest.mark.parametrize("where", ["unix", "tcp"])
def test_target_not_listening_matches_qemu(pairs, where):
    """migrate to nobody: {} now, then setup, failed and QEMU's error-desc."""
    results = {}
    for kind in ("qemu", "fleet"):
        pair = pairs(kind)
        src = pair.source
        src.ok("migrate-set-capabilities", capabilities(["events"]))
        uri = f"unix:{pair.dir}/nobody.sock" if where == "unix" else "tcp:127.0.0.1:1"
        reply = src.execute("migrate", {"uri": uri})
        src.wait_for("MIGRATION", {"status": "failed"})
        info = src.ok("query-migrate")
        info["error-desc"] = info.get("error-desc", "").replace(pair.dir, "DIR")
        results[kind] = (reply, src.migration_events(), info, src.ok("query-status")["status"])
    assert results["fleet"] == results["qemu"]


ERROR_SEQUENCE = [
    ("source", "migrate-pause", None),
    ("source", "migrate-recover", {"uri": "unix:/tmp/nowhere"}),
    ("target", "migrate-recover", {"uri": "unix:/tmp/nowhere"}),
    ("source", "migrate-continue", {"state": "pre-switchover"}),
    ("source", "migrate-start-postcopy", None),
    ("source", "migrate-incoming", {"uri": "unix:/tmp/nowhere"}),
    ("source", "migrate", {"uri": "bogus:1"}),
    ("source", "migrate", {"uri": "unix:"}),
    ("source", "migrate", {"uri": "fd:nosuch"}),
    ("source", "query-migrate", None),
    ("source", "migrate", {"uri": "unix:/tmp/x", "resume": True}),
    ("target", "migrate", {"uri": "unix:/tmp/x"}),
    ("target", "migrate-incoming", {"uri": "bogus:1"}),
    ("target", "migrate-incoming", {"uri": "fd:nosuch"}),
    ("target", "query-migrate", None),
]


def test_errors_match_qemu(pairs):
    """Every refusal as QEMU 7.2 words it (migrate-pause outside postcopy,
    migrate-recover outside postcopy-paused, bad URIs, -incoming missing)."""
    results = {}
    for kind in ("qemu", "fleet"):
        pair = pairs(kind)
        pair.source.ok("migrate-set-capabilities", capabilities(["events"]))
        got = []
        for side, command, arguments in ERROR_SEQUENCE:
            monitor = pair.source if side == "source" else pair.target
            got.append((side, command, monitor.execute(command, arguments)))
        results[kind] = (got, pair.source.migration_events(), pair.target.migration_events())
    for want, have in zip(results["qemu"][0], results["fleet"][0], strict=True):
        assert have == want
    assert results["fleet"][1:] == results["qemu"][1:]


def test_postcopy_matches_qemu(pairs):
    """postcopy-ram and migrate-start-postcopy: postcopy-active on both
    sides, the source stops, the rest of RAM follows, completed."""
    results = {}
    for kind in ("qemu", "fleet"):
        pair = pairs(kind)
        src, dst = pair.source, pair.target
        for monitor in (src, dst):
            monitor.ok("migrate-set-capabilities", capabilities(["events", "postcopy-ram"]))
        src.ok("migrate-set-parameters", {"max-bandwidth": SLOW_BANDWIDTH})
        uri = f"unix:{pair.dir}/postcopy.sock"
        dst.ok("migrate-incoming", {"uri": uri})
        src.ok("cont")
        src.ok("migrate", {"uri": uri})
        dst.wait_for("MIGRATION", {"status": "active"})
        src.ok("migrate-start-postcopy")
        src.wait_for("MIGRATION", {"status": "completed"})
        dst.wait_for("MIGRATION", {"status": "completed"})
        results[kind] = (src.migration_events(), dst.migration_events(), src.ok("query-status")["status"],
                         dst.ok("query-status")["status"], dst.ok("query-migrate"))
    assert results["fleet"] == results["qemu"]


STATE_PLUGINS = ("{migration: {}, block: {drives: [{id: drive0, device: virtio0, file: /tmp/qmpfleet-mig-disk.qcow2, "
                 "format: qcow2, size: 1G, interface: virtio}]}, chardev: {serial: [{id: serial0, backend: ringbuf}]}, "
                 "memory: {}, cpu-hotplug: {}}")
STATE_EXTRA = (", memory: {size: 64M, slots: 2, maxmem: 1G}, "
               "smp: {cpus: 1, maxcpus: 2, sockets: 2, cores: 1, threads: 1}")
STATE_QUERIES = ["query-block", "query-named-block-nodes", "query-cpus-fast", "query-hotpluggable-cpus", "query-chardev",
                 "query-memory-devices", "query-memdev"]


def test_device_state_moves_to_the_target(pairs):
    """What the source's plugins hold (a drive, a hot-plugged CPU and DIMM,
    a console's unread output) is what the target answers afterwards."""
    pair = pairs("fleet", plugins=STATE_PLUGINS, extra=STATE_EXTRA)
    src, dst = pair.source, pair.target
    src.ok("object-add", {"qom-type": "memory-backend-ram", "id": "mem1", "size": 128 << 20})
    src.ok("device_add", {"driver": "pc-dimm", "id": "dimm1", "memdev": "mem1"})
    cpus = src.ok("query-hotpluggable-cpus")
    free = next(c for c in cpus if "qom-path" not in c)
    src.ok("device_add", dict({"driver": free["type"], "id": "cpu1"}, **free["props"]))
    src.ok("block_set_io_throttle", {"device": "drive0", "bps": 1000000, "bps_rd": 0, "bps_wr": 0, "iops": 0, "iops_rd": 0,
                                     "iops_wr": 0})
    # An entropy device reading an rng-egd object over a chardev.
    src.ok("chardev-add", {"id": "egd0", "backend": {"type": "null", "data": {}}})
    src.ok("object-add", {"qom-type": "rng-egd", "id": "rng0", "chardev": "egd0"})
    src.ok("device_add", {"driver": "virtio-rng-pci", "id": "vrng0", "rng": "rng0"})
    src.ok("cont")   # the guest boots: its boot log waits unread in serial0's ring
    before = {q: src.ok(q) for q in STATE_QUERIES}
    assert before["query-memory-devices"] and len(before["query-cpus-fast"]) == 2
    target_before = {q: dst.ok(q) for q in STATE_QUERIES}
    assert target_before["query-memory-devices"] == []
    uri = f"unix:{pair.dir}/state.sock"
    dst.ok("migrate-incoming", {"uri": uri})
    src.ok("migrate-set-parameters", {"max-bandwidth": UNLIMITED_BANDWIDTH})
    src.ok("migrate", {"uri": uri})
    deadline = time.monotonic() + STEP_TIMEOUT_SECONDS
    while dst.ok("query-migrate").get("status") != "completed":
        assert time.monotonic() < deadline, dst.ok("query-migrate")
        time.sleep(0.05)
    after = {q: dst.ok(q) for q in STATE_QUERIES}
    for query in STATE_QUERIES:
        if query == "query-cpus-fast":
            strip = lambda cpus: [{k: v for k, v in c.items() if k != "thread-id"} for c in cpus]
            assert strip(after[query]) == strip(before[query])
        elif query != "query-chardev":
            assert after[query] == before[query], query
    assert [c["label"] for c in after["query-chardev"]] == [c["label"] for c in before["query-chardev"]]
    console = dst.ok("ringbuf-read", {"device": "serial0", "size": 65536})
    assert console.rstrip().endswith("login:"), console[-200:]
    # The host's qdev bookkeeping moved too: the target's QOM tree has the hot-plugged devices.
    peripherals = {p["name"] for p in dst.ok("qom-list", {"path": "/machine/peripheral"})}
    assert {"dimm1", "cpu1", "vrng0"} <= peripherals, peripherals
    # The entropy device still reads its backend, which still holds its chardev.
    assert dst.execute("chardev-remove", {"id": "egd0"})["error"]["desc"] == "Chardev 'egd0' is busy"
    dst.ok("device_del", {"id": "vrng0"})
    dst.wait_for("DEVICE_DELETED", {"device": "vrng0", "path": "/machine/peripheral/vrng0"})
    dst.ok("object-del", {"id": "rng0"})
    dst.ok("chardev-remove", {"id": "egd0"})
    assert src.ok("query-status")["status"] == "postmigrate"
    assert dst.ok("query-status")["status"] == "paused"
    dst.ok("cont")
    assert dst.ok("query-block") == before["query-block"]


def test_fd_migration_between_fleet_vms(pairs):
    """`fd:NAME` on both sides, the ends of one socketpair passed with getfd."""
    pair = pairs("fleet")
    src, dst = pair.source, pair.target
    a, b = socket.socketpair()
    try:
        src.ok("getfd", {"fdname": "mig"}, fds=[a.fileno()])
        dst.ok("getfd", {"fdname": "mig"}, fds=[b.fileno()])
    finally:
        a.close()
        b.close()
    for monitor in (src, dst):
        monitor.ok("migrate-set-capabilities", capabilities(["events"]))
    dst.ok("migrate-incoming", {"uri": "fd:mig"})
    src.ok("migrate-set-parameters", {"max-bandwidth": UNLIMITED_BANDWIDTH})
    src.ok("migrate", {"uri": "fd:mig"})
    src.wait_for("MIGRATION", {"status": "completed"})
    dst.wait_for("MIGRATION", {"status": "completed"})
    # The source never ran: the target takes its state, as QEMU 7.2's does
    # (checked: a -S source that was never continued leaves its target in prelaunch).
    assert dst.ok("query-status")["status"] == "prelaunch"
    assert src.ok("query-status")["status"] == "postmigrate"


def listening(path, process, timeout=STEP_TIMEOUT_SECONDS):
    from conftest import listening_unix_paths
    deadline = time.monotonic() + timeout
    while path not in listening_unix_paths():
        assert process.poll() is None, "the emulator exited"
        assert time.monotonic() < deadline, f"{path} not listening"
        time.sleep(0.05)


def test_into_a_qmpfleet_emulator_and_across_fleets(pairs):
    """Out of one fleet into a `qmpfleet-emulator -incoming unix:PATH` (the
    URI listened on at start, as QEMU does), then out of the emulator into
    a VM of a second fleet: the stream crosses processes as it would
    between QEMUs."""
    import subprocess
    pair = pairs("fleet")
    src = pair.source
    emulator = os.path.join(os.path.dirname(required_fleet_binary()), "qmpfleet-emulator")
    if not os.access(emulator, os.X_OK):
        missing(f"{emulator} is not built")
    qmp, incoming = f"{pair.dir}/emu.qmp", f"{pair.dir}/emu-in.sock"
    env = {k: v for k, v in os.environ.items() if k != "QMPFLEET_CONTROL"}
    process = subprocess.Popen([emulator, "-name", "guest=emu", "-machine", "pc", "-m", "64", "-S", "-nodefaults",
                                "-display", "none", "-incoming", f"unix:{incoming}",
                                "-qmp", f"unix:{qmp},server=on,wait=off"],
                               env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(f"{pair.dir}/emu.log", "wb"))
    other = None
    try:
        listening(qmp, process)
        listening(incoming, process)
        emu = Monitor(qmp)
        assert emu.ok("query-status")["status"] == "inmigrate"
        emu.ok("migrate-set-capabilities", capabilities(["events"]))
        src.ok("migrate-set-parameters", {"max-bandwidth": UNLIMITED_BANDWIDTH})
        src.ok("cont")
        src.ok("migrate", {"uri": f"unix:{incoming}"})
        try:
            emu.wait_for("MIGRATION", {"status": "completed"})
        except AssertionError:
            raise AssertionError(open(f"{pair.dir}/emu.log").read()[-2000:])
        assert emu.ok("query-status")["status"] == "paused"
        # On to a second fleet's VM waiting with incoming: defer, with the
        # emulator's migratable plugins (a section it cannot load would fail).
        other = FleetPair(plugins="{migration: {}, block: {}, chardev: {serial: []}, memory: {}, cpu-hotplug: {}}")
        onward = f"unix:{other.dir}/onward.sock"
        other.target.ok("migrate-set-capabilities", capabilities(["events"]))
        other.target.ok("migrate-incoming", {"uri": onward})
        emu.ok("migrate-set-parameters", {"max-bandwidth": UNLIMITED_BANDWIDTH})
        emu.ok("migrate", {"uri": onward})
        other.target.wait_for("MIGRATION", {"status": "completed"})
        assert emu.ok("query-status")["status"] == "postmigrate"
        assert other.target.ok("query-status")["status"] == "paused"
        emu.close()
    finally:
        if other is not None:
            other.close()
        process.terminate()
        process.wait(10)


def test_postcopy_pause_and_recover():
    """migrate-pause in postcopy-active, migrate-recover on the target,
    `migrate` with `resume` on the source: the rest of RAM follows from
    where the target had got to. (Simulated pair only: QEMU 7.2 here
    finishes a 64 MiB postcopy before a pause can land.)"""
    pair = FleetPair()
    try:
        src, dst = pair.source, pair.target
        for monitor in (src, dst):
            monitor.ok("migrate-set-capabilities", capabilities(["events", "postcopy-ram"]))
        src.ok("migrate-set-parameters", {"max-bandwidth": SLOW_BANDWIDTH, "max-postcopy-bandwidth": 1 << 20})
        dst.ok("migrate-incoming", {"uri": f"unix:{pair.dir}/pc.sock"})
        src.ok("cont")
        src.ok("migrate", {"uri": f"unix:{pair.dir}/pc.sock"})
        dst.wait_for("MIGRATION", {"status": "active"})
        src.ok("migrate-start-postcopy")
        dst.wait_for("MIGRATION", {"status": "postcopy-active"})
        time.sleep(0.3)
        assert src.ok("migrate-pause") == {}
        src.wait_for("MIGRATION", {"status": "postcopy-paused"})
        dst.wait_for("MIGRATION", {"status": "postcopy-paused"})
        paused = src.ok("query-migrate")
        assert paused["status"] == "postcopy-paused" and paused["ram"]["remaining"] > 0
        assert src.execute("migrate", {"uri": "unix:/tmp/x"})["error"]["desc"] == "There's a migration process in progress"
        dst.ok("migrate-recover", {"uri": f"unix:{pair.dir}/recover.sock"})
        src.ok("migrate-set-parameters", {"max-postcopy-bandwidth": 0})
        src.ok("migrate", {"uri": f"unix:{pair.dir}/recover.sock", "resume": True})
        src.wait_for("MIGRATION", {"status": "completed"})
        dst.wait_for("MIGRATION", {"status": "completed"})
        tail = lambda m: [d["status"] for e, d in m.migration_events() if e == "MIGRATION"][-4:]
        assert tail(src) == ["postcopy-paused", "postcopy-recover", "postcopy-active", "completed"]
        assert tail(dst) == ["postcopy-paused", "postcopy-recover", "postcopy-active", "completed"]
        assert src.ok("query-migrate")["ram"]["remaining"] == 0
        assert src.ok("query-status")["status"] == "postmigrate"
        assert dst.ok("query-status")["status"] == "paused"
    finally:
        pair.close()
