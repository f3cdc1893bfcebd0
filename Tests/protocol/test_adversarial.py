"""Issue 16, the integer-overflow class: each hostile value sent as a client
would send it (a VM's QMP socket, the control socket, a command line) to a
fleet whose VMs all share one loop (`loops: 1`). For each case:

- the fleet is still alive afterwards (a Swift overflow trap would end every
  VM of the process),
- a bystander VM on the same loop answered `query-status` within
  BYSTANDER_BOUND_SECONDS all the while (a stall would show there),
- the hostile client got QEMU 7.2's reply: class and text, compared with a
  real QEMU where QEMU has the command.

Other helpers' topics live in test_adversarial_<topic>.py."""
import os
import shutil
import socket
import subprocess
import threading
import time

import pytest

import conftest
from qmp_raw import RawQMP

# Bounds a latency (see pytest.ini: serial): runs alone, not beside other files.
pytestmark = pytest.mark.serial

INT64_MAX = 2**63 - 1
#: The bystander's round trip bound while a hostile case runs (issue 16).
BYSTANDER_BOUND_SECONDS = 0.100

#: disk1 is as large as the block config takes (2^63 - 2^40 bytes): its
#: guest I/O statistics can reach 2^63.
BLOCK = {"drives": [{"id": "drive0", "device": "disk0", "interface": "virtio",
                     "file": "/var/lib/qmpfleet/disk0.qcow2", "format": "qcow2", "size": "20G"},
                    {"id": "drive1", "device": "disk1", "interface": "virtio",
                     "file": "/var/lib/qmpfleet/disk1.qcow2", "format": "qcow2", "size": "8388607T"}]}
VICTIM_PLUGINS = {"chardev": {"serial": []}, "display": {"device": "video0", "vnc": {"password": True}}, "block": BLOCK,
                  "migration": {}, "trace": {}, "balloon": {}, "dump": {}}


class Bystander(threading.Thread):
    """A client of another VM asking `query-status` back to back; keeps the
    slowest round trip and any failure."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.client = RawQMP(path, timeout=5)
        self.client.negotiate()
        self.stop = threading.Event()
        self.slowest = 0.0
        self.rounds = 0
        self.failure = None

    def run(self):
        try:
            while not self.stop.is_set():
                start = time.monotonic()
                reply = self.client.execute("query-status")
                self.slowest = max(self.slowest, time.monotonic() - start)
                self.rounds += 1
                if "return" not in reply:
                    self.failure = f"query-status: {reply}"
                    return
                time.sleep(0.002)
        except Exception as e:  # the fleet died or stalled past the timeout
            self.failure = repr(e)

    def finish(self):
        self.stop.set()
        self.join(10)
        self.client.close()


def watcher(fleet):
    """`watched(case)` for a fleet with VMs `victim` and `bystander` on one
    loop: runs `case()` while the bystander asks, then checks the fleet
    lives, the bystander never waited BYSTANDER_BOUND_SECONDS, and both VMs
    still answer; returns case's result."""
    def watched(case):
        bystander = Bystander(fleet.vm_socket("bystander"))
        bystander.start()
        time.sleep(0.02)
        try:
            result = case()
            time.sleep(0.02)
        finally:
            bystander.finish()
        assert fleet.process.poll() is None, f"the fleet died{fleet.log_tail()}"
        assert bystander.failure is None, f"the bystander failed: {bystander.failure}{fleet.log_tail()}"
        assert bystander.rounds > 0
        assert bystander.slowest < BYSTANDER_BOUND_SECONDS, f"bystander waited {bystander.slowest * 1000:.0f} ms"
        # Still serving both VMs.
        for name in ("victim", "bystander"):
            with RawQMP(fleet.vm_socket(name)) as c:
                c.negotiate()
                assert "return" in c.execute("query-status")
        return result

    return watched


@pytest.fixture
def one_loop_fleet():
    """victim (chardev, display, block plugins) and bystander, on one loop;
    yields the fleet and a function that runs a case under watch."""
    binary = conftest.required_fleet_binary()
    files = conftest.short_tempdir("qa-files-")
    template = dict(conftest.PC_TEMPLATE)

    def config(socket_dir):
        text = conftest.fleet_yaml(socket_dir, {"pc": template},
                                   [{"name": "victim", "template": "pc", "plugins": VICTIM_PLUGINS},
                                    {"name": "bystander", "template": "pc"}], conftest.FLEET_QEMU_VERSION)
        return text + f"loops: 1\nallowed-file-dirs: [{files}]\n"

    fleet = conftest.FleetProcess.on_config(binary, ["victim", "bystander"], config)
    fleet.files = files

    watched = watcher(fleet)

    yield fleet, watched
    problems = fleet.shutdown_problems()
    fleet.cleanup()
    shutil.rmtree(files, ignore_errors=True)
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def vm_client(fleet, name="victim"):
    c = RawQMP(fleet.vm_socket(name))
    c.negotiate()
    return c


def control_client(fleet):
    c = RawQMP(fleet.control)
    c.negotiate()
    return c


def qemu_replies(qemu_vm, requests, **kwargs):
    """What QEMU 7.2 answers to `requests`, in order."""
    vm = qemu_vm(**kwargs)
    with RawQMP(vm.socket) as c:
        c.negotiate()
        return [c.execute(command, arguments) for command, arguments in requests]


def error_of(reply):
    assert "error" in reply, f"expected an error, got {reply}"
    return reply["error"]["class"], reply["error"]["desc"]


# ---------------------------------------------------------- VM socket ----

def reconnect_chardev(path, reconnect):
    return ("chardev-add", {"id": "c1", "backend": {"type": "socket", "data": {
        "addr": {"type": "unix", "data": {"path": path}}, "server": False, "reconnect": reconnect}}})


@pytest.mark.parametrize("reconnect", [INT64_MAX, 2**53, -1, -2**63])
def test_chardev_reconnect_extremes(one_loop_fleet, qemu_vm, reconnect):
    fleet, watched = one_loop_fleet
    # A path nothing listens on: with reconnect > 0 the client schedules its
    # timer (seconds * 1000 overflowed here), else the connect fails at once.
    path = os.path.join(fleet.files, "nobody.sock")
    with vm_client(fleet) as c:
        ours = watched(lambda: c.execute(*reconnect_chardev(path, reconnect)))
        status = c.execute("query-chardev")
    qemu_dir = conftest.short_tempdir("qa-q-")
    try:
        qemu_path = os.path.join(qemu_dir, "nobody.sock")
        theirs, = qemu_replies(qemu_vm, [reconnect_chardev(qemu_path, reconnect)])
    finally:
        shutil.rmtree(qemu_dir, ignore_errors=True)
    if "error" in theirs:
        cls, desc = error_of(theirs)
        assert error_of(ours) == (cls, desc.replace(qemu_path, path))
    else:
        assert ours == theirs == {"return": {}}
        assert any(ch["label"] == "c1" and ch["filename"].startswith("disconnected:") for ch in status["return"])


@pytest.mark.parametrize("hold", [INT64_MAX, -1, -2**63, 2**32, 2**32 + 5])
def test_send_key_hold_time_extremes(one_loop_fleet, qemu_vm, hold):
    fleet, watched = one_loop_fleet
    request = ("send-key", {"keys": [{"type": "qcode", "data": "a"}, {"type": "qcode", "data": "b"}], "hold-time": hold})
    with vm_client(fleet) as c:
        ours = watched(lambda: c.execute(*request))
    theirs, = qemu_replies(qemu_vm, [request], extra=["-vga", "std"])
    assert ours == theirs == {"return": {}}


@pytest.mark.parametrize("value", [2**63, 2**64 - 1, 1e308, -1e308])
def test_out_of_int64_range_is_qapis_type_error(one_loop_fleet, qemu_vm, value):
    """Past int64 QEMU's visitor refuses the value: same class and text."""
    fleet, watched = one_loop_fleet
    request = ("send-key", {"keys": [{"type": "qcode", "data": "a"}], "hold-time": value})
    with vm_client(fleet) as c:
        ours = watched(lambda: c.execute(*request))
    theirs, = qemu_replies(qemu_vm, [request], extra=["-vga", "std"])
    assert error_of(ours) == error_of(theirs)


#: Integers at QAPI's edges where QEMU 7.2 has the command: its visitor's
#: range texts, then each command's own range check.
QAPI_EDGES = [
    ("block-dirty-bitmap-add", {"node": "x", "name": "b", "granularity": 2**32}),
    ("block-dirty-bitmap-add", {"node": "x", "name": "b", "granularity": -1}),
    ("migrate-set-parameters", {"compress-level": 300}),
    ("migrate-set-parameters", {"max-bandwidth": -1}),
    ("migrate-set-parameters", {"max-bandwidth": 2**64 - 1}),
    ("migrate-set-parameters", {"downtime-limit": INT64_MAX}),
    ("migrate-set-parameters", {"xbzrle-cache-size": 2**64 - 1}),
    ("migrate-set-parameters", {"cpu-throttle-initial": 2**32}),
    ("ringbuf-read", {"device": "x", "size": 2**64 - 1}),
    ("ringbuf-read", {"device": "x", "size": 1e308}),
    ("balloon", {"value": -1}),
    ("balloon", {"value": INT64_MAX}),
    ("calc-dirty-rate", {"calc-time": INT64_MAX}),
    ("calc-dirty-rate", {"calc-time": 1, "sample-pages": INT64_MAX}),
    ("trace-event-get-state", {"name": "x", "vcpu": INT64_MAX}),
    ("block_set_io_throttle", {"id": "x", "bps": INT64_MAX, "bps_rd": 0, "bps_wr": 0, "iops": 0, "iops_rd": 0, "iops_wr": 0}),
    ("dump-guest-memory", {"paging": False, "protocol": "fd:nope", "begin": INT64_MAX, "length": INT64_MAX}),
]


@pytest.fixture(scope="module")
def qemu_qapi_edges():
    """QEMU 7.2's replies to QAPI_EDGES, from one QEMU."""
    if shutil.which(conftest.QEMU_PROGRAM) is None:
        conftest.missing(f"{conftest.QEMU_PROGRAM} is not installed")
    vm = conftest.QemuProcess("pc")
    try:
        with RawQMP(vm.socket) as c:
            c.negotiate()
            return [c.execute(command, arguments) for command, arguments in QAPI_EDGES]
    finally:
        vm.close()


def test_qapi_integer_edges(one_loop_fleet, qemu_qapi_edges):
    fleet, watched = one_loop_fleet
    with vm_client(fleet) as c:
        ours = watched(lambda: [c.execute(command, arguments) for command, arguments in QAPI_EDGES])
    for request, mine, theirs in zip(QAPI_EDGES, ours, qemu_qapi_edges):
        assert mine == theirs, request


@pytest.mark.parametrize("time_", ["+9223372036854775807", "+99999999999999999999999", "18446744073709551615"])
def test_expire_password_extremes(one_loop_fleet, qemu_vm, time_):
    """time_t arithmetic in QEMU (`now + strtoull(...)`): it wraps there."""
    fleet, watched = one_loop_fleet
    request = ("expire_password", {"protocol": "vnc", "time": time_})
    with vm_client(fleet) as c:
        ours = watched(lambda: c.execute(*request))
    vnc_dir = conftest.short_tempdir("qa-vnc-")
    try:
        theirs, = qemu_replies(qemu_vm, [request], extra=["-vnc", f"unix:{vnc_dir}/vnc.sock,password=on"])
    finally:
        shutil.rmtree(vnc_dir, ignore_errors=True)
    assert ours == theirs == {"return": {}}


def test_whole_disk_write_under_a_fine_bitmap(one_loop_fleet):
    """A 512-byte-granularity bitmap on a disk of 2^63 - 2^40 bytes, then a
    guest write of all of it and a merge from a 2^31-byte-granularity bitmap:
    chunk sets were (size / granularity) entries, a stall of hours."""
    fleet, watched = one_loop_fleet
    size = 8388607 << 40
    with vm_client(fleet) as vm, control_client(fleet) as control:
        for name, granularity in (("fine", 512), ("coarse", 2**31)):
            assert vm.execute("block-dirty-bitmap-add", {"node": "drive1", "name": name, "granularity": granularity}) == {"return": {}}

        def write_and_merge():
            reply = control.execute("guest-action", {"vm": "victim", "plugin": "block", "action": "write",
                                                     "arguments": {"device": "disk1", "offset": 0, "bytes": size}})
            assert reply == {"return": {}}
            assert vm.execute("block-dirty-bitmap-clear", {"node": "drive1", "name": "fine"}) == {"return": {}}
            assert vm.execute("block-dirty-bitmap-merge", {"node": "drive1", "target": "fine", "bitmaps": ["coarse"]}) == {"return": {}}
        watched(write_and_merge)
        device = next(d for d in vm.execute("query-block")["return"] if d["device"] == "drive1")
        assert [b["count"] for b in device["inserted"]["dirty-bitmaps"]] == [size, size]


# ------------------------------------------------------ control socket ----

@pytest.mark.parametrize("memory, text", [
    ("8388608T", "Address space limit 0xffffffffff < 0x800000ffbfffffff phys-bits too low (40)"),
    ("16E", "Value '16E' is out of range for parameter 'size'"),
    ({"size": "1G", "slots": 1, "maxmem": "8388608T"},
     "Address space limit 0xffffffffff < 0x800001007fffffff phys-bits too low (40)"),
    ({"size": "1G", "slots": -1, "maxmem": "2G"}, "unsupported amount of memory slots: 18446744073709551615"),
    ({"size": "2G", "slots": 2, "maxmem": "1G"},
     "invalid value of maxmem: maximum memory size (0x40000000) must be at least the initial memory size (0x80000000)"),
])
def test_vm_create_memory_extremes(one_loop_fleet, memory, text):
    """QEMU 7.2's texts for the same -m (`qemu-system-x86_64 -machine pc -m
    1G,slots=1,maxmem=8388608T` etc.; `-m 8388608T` alone fails earlier on
    a host that cannot allocate 8 EiB, with the same layout past 40 bits)."""
    fleet, watched = one_loop_fleet
    with control_client(fleet) as c:
        reply = watched(lambda: c.execute("vm-create", {"name": "huge", "template": "pc", "config": {"memory": memory}}))
        assert reply["error"]["class"] == "GenericError"
        assert text in reply["error"]["desc"]
        assert not any(vm["name"] == "huge" for vm in c.execute("query-vms")["return"])


@pytest.mark.parametrize("smp, text", [
    ({"cpus": 1, "sockets": 2**32, "cores": 2**32, "threads": 2**32, "maxcpus": 4},
     "Invalid CPU topology: product of the hierarchy must match maxcpus: sockets (4294967296) * dies (1) "
     "* cores (4294967296) * threads (4294967296) != maxcpus (4)"),
    ({"cpus": 1, "sockets": 2**31, "cores": 2**31, "threads": 2**31, "maxcpus": 2**62},
     "Invalid CPU topology: product of the hierarchy must match maxcpus"),
    ({"cpus": 1, "sockets": 2000000000, "maxcpus": 2000000000},
     "Invalid SMP CPUs 2000000000. The max CPUs supported by machine 'pc-i440fx-7.2' is 255"),
    ({"cpus": INT64_MAX, "sockets": 1, "maxcpus": 1},
     "Invalid CPU topology: maxcpus must be equal to or greater than smp"),
])
def test_vm_create_smp_extremes(one_loop_fleet, smp, text):
    """QEMU 7.2's texts (`-smp maxcpus=2000000000`: "Invalid SMP CPUs
    2000000000. The max CPUs supported by machine 'pc-i440fx-7.2' is 255").
    Where QEMU wraps 2^32 to 0 in its `unsigned` fields and starts, the
    fleet refuses with QEMU's text for the mismatch."""
    fleet, watched = one_loop_fleet
    with control_client(fleet) as c:
        reply = watched(lambda: c.execute("vm-create", {"name": "wide", "template": "pc", "config": {"smp": smp}}))
        assert reply["error"]["class"] == "GenericError"
        assert text in reply["error"]["desc"]


@pytest.mark.parametrize("offset, size", [(INT64_MAX, INT64_MAX), (INT64_MAX, 1), (1, INT64_MAX), (2**62, 2**62)])
def test_block_guest_io_past_int64(one_loop_fleet, offset, size):
    fleet, watched = one_loop_fleet
    with control_client(fleet) as c:
        for action in ("write", "read"):
            reply = watched(lambda: c.execute("guest-action", {"vm": "victim", "plugin": "block", "action": action,
                                                               "arguments": {"device": "disk0", "offset": offset, "bytes": size}}))
            assert error_of(reply) == ("GenericError", "Request beyond the end of the disk")


@pytest.mark.parametrize("drive, text", [
    ({"size": INT64_MAX, "allocated": INT64_MAX}, "size must be from 0 to 9223372035781033984 bytes"),
    ({"size": -1}, "size must be from 0 to 9223372035781033984 bytes"),
    ({"size": "1G", "allocated": -1}, "allocated must not be negative"),
])
def test_vm_create_drive_size_extremes(one_loop_fleet, drive, text):
    """A configured drive is at most QEMU's BDRV_MAX_LENGTH (2^63 - 2^30):
    a size of 2^63 - 1 with as much allocated made the image's size
    arithmetic trap and ended every VM."""
    fleet, watched = one_loop_fleet
    plugins = {"block": {"drives": [dict(drive, id="d0", file="/var/lib/qmpfleet/big.qcow2", format="qcow2")]}}
    with control_client(fleet) as c:
        reply = watched(lambda: c.execute("vm-create", {"name": "big", "template": "pc", "config": {"plugins": plugins}}))
        assert reply["error"]["class"] == "GenericError"
        assert text in reply["error"]["desc"], reply


def test_a_backing_chains_data_past_int64(one_loop_fleet):
    """disk1 (2^63 - 2^40 bytes) written whole, snapshotted, its overlay
    written whole: a full mirror's length, the data of the whole chain, is
    past Int64 and stops at its top (the sum trapped and ended every VM)."""
    fleet, watched = one_loop_fleet
    size = 8388607 << 40

    def fill():
        with control_client(fleet) as c:
            reply = c.execute("guest-action", {"vm": "victim", "plugin": "block", "action": "write",
                                               "arguments": {"device": "disk1", "offset": 0, "bytes": size}})
            assert reply == {"return": {}}, reply

    with vm_client(fleet) as c:
        watched(fill)
        snapshot = os.path.join(fleet.files, "overlay.qcow2")
        assert c.execute("blockdev-snapshot-sync", {"device": "drive1", "snapshot-file": snapshot, "format": "qcow2"}) == {"return": {}}
        watched(fill)
        target = os.path.join(fleet.files, "mirror.qcow2")
        reply = watched(lambda: c.execute("drive-mirror", {"device": "drive1", "target": target, "format": "qcow2",
                                                           "sync": "full", "job-id": "m"}))
        assert reply == {"return": {}}, reply
        jobs = c.execute("query-block-jobs")["return"]
        assert [(job["device"], job["len"]) for job in jobs] == [("m", INT64_MAX)]


def test_block_guest_io_counters_wrap(one_loop_fleet):
    """Statistics grow by client-chosen sizes: three reads of 2^62 bytes take
    rd_bytes past 2^63, where QEMU's uint64_t counter (printed as a QAPI
    int) wraps."""
    fleet, watched = one_loop_fleet

    def reads():
        with control_client(fleet) as c:
            for _ in range(3):
                reply = c.execute("guest-action", {"vm": "victim", "plugin": "block", "action": "read",
                                                   "arguments": {"device": "disk1", "offset": 0, "bytes": 2**62}})
                assert reply == {"return": {}}
    watched(reads)
    with vm_client(fleet) as c:
        stats = next(d for d in c.execute("query-blockstats")["return"] if d.get("device") == "drive1")
        assert stats["stats"]["rd_operations"] == 3
        assert stats["stats"]["rd_bytes"] == 3 * 2**62 - 2**64


# --------------------------------------------------------- command line ----

def emulator_binary():
    path = os.path.join(os.path.dirname(conftest.required_fleet_binary()), "qmpfleet-emulator")
    if not os.access(path, os.X_OK):
        conftest.missing(f"{path} is not built")
    return path


@pytest.mark.parametrize("smp, text", [
    ("maxcpus=4,sockets=4294967296,threads=4294967296", "Invalid CPU topology: product of the hierarchy must match maxcpus"),
    ("maxcpus=2000000000", "Invalid SMP CPUs 2000000000. The max CPUs supported by machine 'pc-i440fx-7.2' is 255"),
    ("18446744073709551616", "Parameter 'smp.cpus' expects integer"),
])
def test_emulator_smp_extremes(smp, text):
    """`qmpfleet-emulator` as libvirt runs it: QEMU's text and exit 1, not a
    trap (a trap is SIGILL/SIGTRAP, and a 2e9-entry vCPU list never ends)."""
    directory = conftest.short_tempdir("qa-emu-")
    try:
        args = [emulator_binary(), "-machine", "pc", "-accel", "tcg", "-S", "-nodefaults", "-display", "none",
                "-smp", smp, "-qmp", f"unix:{directory}/q.qmp,server=on,wait=off"]
        env = {k: v for k, v in os.environ.items() if k != "QMPFLEET_CONTROL"}
        done = subprocess.run(args, capture_output=True, text=True, timeout=20, env=env)
        assert done.returncode == 1, (done.returncode, done.stderr)
        assert text in done.stderr
    finally:
        shutil.rmtree(directory, ignore_errors=True)


#: Pipelined `query-commands` requests (each ~10 KB of reply, a few ms in a
#: debug build): all in one loop turn they held the loop for about a second.
SLOW_PIPELINE = 300
CRLF = b"\r\n"


@pytest.mark.parametrize("half_close", [False, True])
def test_pipelined_slow_commands_share_the_loop(one_loop_fleet, half_close):
    """A client's queued commands run for at most `session-turn-us` per loop
    turn; the rest waits until the loop has polled again, so another VM's
    client is answered in between (QEMU's monitor, too, dispatches one request
    per main-loop turn). A client that half-closes gets its replies still."""
    fleet, watched = one_loop_fleet

    def case():
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(30)
            s.connect(fleet.vm_socket("victim"))
            s.sendall(b'{"execute": "qmp_capabilities"}' + b'{"execute": "query-commands"}' * SLOW_PIPELINE)
            if half_close:
                s.shutdown(socket.SHUT_WR)
            received = bytearray()
            while received.count(CRLF) < SLOW_PIPELINE + 2:
                chunk = s.recv(1 << 20)
                assert chunk, f"closed after {bytes(received).count(CRLF)} lines"
                received += chunk
            return received.count(b'{"return": [')
    assert watched(case) == SLOW_PIPELINE
