"""Hostile file paths (issue 16): a FIFO, a slow pipe and a symlink out of
allowed-file-dirs given to screendump, pmemsave, dump-guest-memory, a file
chardev and a secret's file=. (Pipes never drained, and the thread pool
they would hold: test_adversarial_pool.py.) Each case asserts that the fleet lives on,
that another VM on the same loop answered query-status within 100 ms the
whole time, and that the hostile client got QEMU 7.2's error.

QEMU opens these paths blocking and would hang on a FIFO nobody opens; the
fleet opens them O_NONBLOCK and refuses what is not a regular file, which
gives ENXIO: the oracle is QEMU's own answer for a path whose open(2) fails
with ENXIO (a unix socket file), compared text for text.
"""
import array
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import threading
import time

import pytest

from conftest import QEMU_PROGRAM, FleetProcess, QemuProcess, missing, required_fleet_binary, short_tempdir

# Bounds a latency (see pytest.ini: serial): runs alone, not beside other files.
pytestmark = pytest.mark.serial

LATENCY_LIMIT_SECONDS = 0.1
REPLY_TIMEOUT_SECONDS = 10.0
# 200x150 PPM: 90,015 bytes, more than a pipe holds (64 KiB).
WIDTH, HEIGHT = 200, 150


class Client:
    """A blocking QMP client on a unix socket: negotiated, events skipped."""

    def __init__(self, path, timeout=REPLY_TIMEOUT_SECONDS):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buffer = b""
        self.events = []
        self.read()  # greeting
        assert "return" in self.execute("qmp_capabilities")

    def read(self):
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the fleet closed the connection")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def execute(self, command, arguments=None, fds=()):
        message = {"execute": command}
        if arguments is not None:
            message["arguments"] = arguments
        data = json.dumps(message).encode() + b"\n"
        if fds:
            self.sock.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
        else:
            self.sock.sendall(data)
        while True:
            reply = self.read()
            if "event" in reply:
                self.events.append(reply)
                continue
            return reply

    def close(self):
        self.sock.close()


class Victim(threading.Thread):
    """Asks `query-status` of another VM on the same loop, back to back,
    and keeps the slowest answer."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.client = Client(path, timeout=5.0)
        self.slowest = 0.0
        self.answers = 0
        self.failure = None
        self.stopping = threading.Event()

    def run(self):
        try:
            while not self.stopping.is_set():
                start = time.monotonic()
                reply = self.client.execute("query-status")
                self.slowest = max(self.slowest, time.monotonic() - start)
                assert "return" in reply, reply
                self.answers += 1
                time.sleep(0.005)
        except Exception as error:  # a stalled loop times the read out
            self.slowest = max(self.slowest, 5.0)
            self.failure = repr(error)

    def stop(self):
        self.stopping.set()
        self.join(10)
        self.client.close()


@pytest.fixture
def files():
    """allowed/ (the fleet's only allowed-file-dir) and outside/, a place
    a symlink in allowed/ points to."""
    root = short_tempdir("af-")
    paths = {"root": root, "allowed": os.path.join(root, "allowed"), "outside": os.path.join(root, "outside")}
    os.mkdir(paths["allowed"], 0o700)
    os.mkdir(paths["outside"], 0o700)
    yield paths
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def fleet(files):
    def config(socket_dir):
        return (f"socket-dir: {socket_dir}\n"
                f"loops: 1\n"
                f"allowed-file-dirs: [{files['allowed']}]\n"
                f"vms:\n"
                f"  - {{name: hostile, machine: pc-i440fx-7.2, memory: {{size: 128M}}, plugins: "
                f"{{block: {{}}, chardev: {{}}, dump: {{}}, colo: {{}}, migration: {{}}, "
                f"display: {{width: {WIDTH}, height: {HEIGHT}}}}}}}\n"
                f"  - {{name: victim, machine: pc-i440fx-7.2, memory: {{size: 128M}}}}\n"
                f"  - {{name: board, arch: aarch64, machine: virt, memory: {{size: 128M}}}}\n")
    process = FleetProcess.on_config(required_fleet_binary(), ["hostile", "victim", "board"], config)
    yield process
    # A loop stalled on a FIFO (the bug) never exits on SIGTERM.
    process.kill()
    process.cleanup()


def while_victim_asks(fleet, action):
    """Runs `action()` while the victim VM is asked query-status; returns
    what it returned, after checking the victim's latency and the fleet."""
    victim = Victim(fleet.vm_socket("victim"))
    victim.start()
    time.sleep(0.05)
    try:
        result = action()
    finally:
        time.sleep(0.05)
        victim.stop()
    assert fleet.process.poll() is None, "the fleet ended"
    assert victim.failure is None, f"the victim VM stopped answering: {victim.failure}"
    assert victim.answers > 0
    print(f"bystander's slowest query-status: {victim.slowest * 1000:.1f} ms over {victim.answers} answers")
    assert victim.slowest < LATENCY_LIMIT_SECONDS, f"the victim waited {victim.slowest * 1000:.0f} ms for query-status"
    return result


# ------------------------------------------------- FIFOs: QEMU's ENXIO ----

FIFO_CASES = {
    "screendump": lambda p: ("screendump", {"filename": p}),
    "pmemsave": lambda p: ("pmemsave", {"val": 0, "size": 4096, "filename": p}),
    "dump-guest-memory": lambda p: ("dump-guest-memory", {"paging": False, "protocol": "file:" + p}),
    "chardev-file": lambda p: ("chardev-add", {"id": "f0", "backend": {"type": "file", "data": {"out": p}}}),
    "chardev-logfile": lambda p: ("chardev-add", {"id": "f1", "backend": {"type": "null", "data": {"logfile": p}}}),
    "secret-file": lambda p: ("object-add", {"qom-type": "secret", "id": "s0", "file": p}),
}


@pytest.fixture(scope="module")
def qemu_enxio_errors():
    """QEMU 7.2's error for each case on a path open(2) refuses with ENXIO."""
    if shutil.which(QEMU_PROGRAM) is None:
        pytest.skip(f"{QEMU_PROGRAM} is not installed")
    qemu = QemuProcess("pc", paused=True, extra=("-vga", "std"))
    listener = socket.socket(socket.AF_UNIX)
    path = os.path.join(qemu.dir, "target")
    listener.bind(path)
    try:
        client = Client(qemu.socket)
        errors = {}
        for case, make in FIFO_CASES.items():
            command, arguments = make(path)
            reply = client.execute(command, arguments)
            assert "error" in reply, (case, reply)
            errors[case] = (reply["error"]["class"], reply["error"]["desc"].replace(path, "{path}"))
        client.close()
        return errors
    finally:
        listener.close()
        qemu.close()


@pytest.mark.parametrize("case", FIFO_CASES)
def test_fifo_gets_qemus_error_without_stalling_the_loop(fleet, files, qemu_enxio_errors, case):
    fifo = os.path.join(files["allowed"], "fifo")
    os.mkfifo(fifo, 0o600)
    client = Client(fleet.vm_socket("hostile"))
    command, arguments = FIFO_CASES[case](fifo)
    reply = while_victim_asks(fleet, lambda: client.execute(command, arguments))
    assert "error" in reply, reply
    assert (reply["error"]["class"], reply["error"]["desc"]) == (
        qemu_enxio_errors[case][0], qemu_enxio_errors[case][1].replace("{path}", fifo))
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # nothing replaced it
    assert client.execute("query-status")["return"]["status"] == "running"
    client.close()


# ----------------------------------------- slow pipes: written off the loop ----

def slow_reader(fd, delay, into):
    """Reads the pipe only after `delay` seconds, to its end."""
    def run():
        time.sleep(delay)
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            into.append(chunk)
        os.close(fd)
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def add_pipe_to_fdset(client):
    """A pipe whose write end the VM gets with add-fd; the read end's fd
    and the fd set's path."""
    read_end, write_end = os.pipe()
    reply = client.execute("add-fd", {}, fds=[write_end])
    os.close(write_end)
    assert "return" in reply, reply
    return read_end, f"/dev/fdset/{reply['return']['fdset-id']}"


def test_screendump_to_an_fd_sets_pipe_gets_qemus_error(fleet):
    """QEMU 7.2's fd-set open truncates what it opens with O_TRUNC
    (qemu_dup_flags), which a pipe cannot be: "Invalid argument", at once
    (test_adversarial_pool.py compares it with QEMU's and covers pipes
    QEMU does write to)."""
    client = Client(fleet.vm_socket("hostile"))
    read_end, path = add_pipe_to_fdset(client)
    reply = while_victim_asks(fleet, lambda: client.execute("screendump", {"filename": path}))
    assert reply == {"error": {"class": "GenericError", "desc": f"failed to open file '{path}': Invalid argument"}}
    os.close(read_end)
    client.close()


def test_file_chardev_output_to_a_slow_pipe_is_written_off_the_loop(fleet):
    client = Client(fleet.vm_socket("hostile"))
    read_end, path = add_pipe_to_fdset(client)
    # append: QEMU's fd-set open refuses to truncate a pipe (O_TRUNC).
    reply = client.execute("chardev-add", {"id": "slow", "backend": {"type": "file", "data": {"out": path, "append": True}}})
    assert reply == {"return": {}}, reply
    client.execute("remove-fd", {"fdset-id": int(path.rsplit("/", 1)[1])})
    received = []
    reader = slow_reader(read_end, 1.0, received)
    control = Client(fleet.control)
    text = "x" * 200_000
    reply = while_victim_asks(fleet, lambda: control.execute(
        "guest-action", {"vm": "hostile", "plugin": "chardev", "action": "console-write",
                         "arguments": {"chardev": "slow", "text": text}}))
    assert reply == {"return": {}}, reply
    # The reader drains after a second; the chardev's end closes with it.
    assert client.execute("chardev-remove", {"id": "slow"}) == {"return": {}}
    reader.join(10)
    assert b"".join(received).startswith(b"x" * 65536)
    control.close()
    client.close()


# ------------------------------------------- symlinks out of allowed dirs ----

def test_a_symlink_does_not_lead_out_of_allowed_file_dirs(fleet, files):
    target = os.path.join(files["outside"], "target")
    link = os.path.join(files["allowed"], "link")
    os.symlink(target, link)
    os.symlink(files["outside"], os.path.join(files["allowed"], "dirlink"))
    client = Client(fleet.vm_socket("hostile"))
    cases = [
        (("screendump", {"filename": link}), f"failed to open file '{link}': Permission denied"),
        (("pmemsave", {"val": 0, "size": 4096, "filename": link}), f"Could not open '{link}': Permission denied"),
        (("pmemsave", {"val": 0, "size": 4096, "filename": files["allowed"] + "/dirlink/x"}),
         f"Could not open '{files['allowed']}/dirlink/x': Permission denied"),
        (("dump-guest-memory", {"paging": False, "protocol": "file:" + link}), f"Could not open '{link}': Permission denied"),
        (("object-add", {"qom-type": "secret", "id": "s0", "file": link}),
         f"Unable to read {link}: Failed to open file \u201c{link}\u201d: Permission denied"),
    ]
    for (command, arguments), desc in cases:
        reply = while_victim_asks(fleet, lambda: client.execute(command, arguments))
        assert reply == {"error": {"class": "GenericError", "desc": desc}}, (command, reply)
    assert os.listdir(files["outside"]) == []
    client.close()


def test_files_a_client_creates_are_0600(fleet, files):
    client = Client(fleet.vm_socket("hostile"))
    path = os.path.join(files["allowed"], "ram.bin")
    reply = while_victim_asks(fleet, lambda: client.execute("pmemsave", {"val": 0, "size": 4096, "filename": path}))
    assert reply == {"return": {}}, reply
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    client.close()


# ---------------------------------------------- slow files: images on FUSE ----

SLOW_READ_SECONDS = 1.0
SLOW_OPEN_SECONDS = 1.0
DEBIAN_PYTHON = "/usr/bin/python3"


def mount_slow_fuse(files, name, read_delay, open_delay=0.0, lookup_delay=0.0):
    """allowed/NAME: a FUSE filesystem (slow_fuse.py) whose every read
    waits `read_delay` seconds, every open, create, truncate and unlink
    `open_delay`, and every lookup `lookup_delay`, as a file on a hung NFS
    or FUSE mount would. It needs Debian's python3 with
    python3-fusepy and fuse3 (scripts/install-deps). Yields the mount
    point; unmounts after."""
    have_fusepy = os.path.exists(DEBIAN_PYTHON) and subprocess.run(
        [DEBIAN_PYTHON, "-c", "import fusepy"], capture_output=True).returncode == 0
    if not have_fusepy or shutil.which("fusermount3") is None:
        missing("python3-fusepy and fuse3 are needed for a slow filesystem")
    # The packages are install-deps' to provide; the kernel's FUSE device and
    # the right to mount are the machine's (a container may have neither).
    if not os.path.exists("/dev/fuse"):
        pytest.skip("this machine has no /dev/fuse")
    mountpoint = os.path.join(files["allowed"], name)
    os.mkdir(mountpoint, 0o700)
    server = subprocess.Popen([DEBIAN_PYTHON, os.path.join(os.path.dirname(__file__), "slow_fuse.py"),
                               mountpoint, str(read_delay), str(open_delay), str(lookup_delay)], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while not os.path.ismount(mountpoint):
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.skip(f"could not mount FUSE here: {server.communicate()[1].decode(errors='replace')[-500:]}")
        time.sleep(0.05)
    yield mountpoint
    subprocess.run(["fusermount3", "-u", "-z", mountpoint], capture_output=True)
    server.kill()
    server.wait()


@pytest.fixture
def slow_fuse(files):
    """allowed/fuse, whose every read waits a second."""
    yield from mount_slow_fuse(files, "fuse", SLOW_READ_SECONDS)


@pytest.fixture
def slow_open_fuse(files):
    """allowed/slowopen, whose every open, create, truncate and unlink
    waits a second (reads and lookups are quick): the kernel ignores
    O_NONBLOCK for all."""
    yield from mount_slow_fuse(files, "slowopen", 0.0, SLOW_OPEN_SECONDS)


@pytest.mark.parametrize("image", ["slow.qcow2", "slow.raw"])
def test_an_image_header_on_a_slow_filesystem_is_read_off_the_loop(fleet, slow_fuse, image):
    """blockdev-add reads the image's header (QEMU's probe) on a worker:
    the bystander VM on the same loop keeps answering while the read
    takes a second, and the node gets what the header says. (QEMU
    blocks its main loop for the read; the fleet's loop serves others.)"""
    client = Client(fleet.vm_socket("hostile"))
    path = os.path.join(slow_fuse, image)
    started = time.monotonic()
    reply = while_victim_asks(fleet, lambda: client.execute(
        "blockdev-add", {"driver": "qcow2" if image.endswith("qcow2") else "raw", "node-name": "n0",
                         "file": {"driver": "file", "filename": path, "read-only": True}, "read-only": True}))
    assert reply == {"return": {}}, reply
    assert time.monotonic() - started >= SLOW_READ_SECONDS  # the header was read
    nodes = {node["node-name"]: node for node in client.execute("query-named-block-nodes")["return"]}
    assert nodes["n0"]["drv"] == ("qcow2" if image.endswith("qcow2") else "raw")
    if image.endswith("qcow2"):
        assert nodes["n0"]["image"]["virtual-size"] == 1 << 30  # from the header
    client.close()


# ------------------------------------------ slow opens: opened off the loop ----

def slow_open_cases(fuse):
    """Each command that opens a client-named path, as a client sends it
    for a file on the slow mount: (VM, command, arguments), and what QEMU
    7.2 answers (checked with qemu-system-x86_64 -machine pc and
    qemu-system-aarch64 -machine virt on a plain directory)."""
    ok = {"return": {}}
    return {
        "screendump": (("hostile", "screendump", {"filename": f"{fuse}/screen.ppm"}), ok),
        "pmemsave": (("hostile", "pmemsave", {"val": 0, "size": 4096, "filename": f"{fuse}/pmem"}), ok),
        "memsave": (("hostile", "memsave", {"val": 0, "size": 4096, "filename": f"{fuse}/mem"}), ok),
        "dump-guest-memory": (("hostile", "dump-guest-memory", {"paging": False, "protocol": f"file:{fuse}/core",
                                                               "begin": 0, "length": 65536}), ok),
        "chardev-file": (("hostile", "chardev-add", {"id": "f0", "backend": {"type": "file", "data": {"out": f"{fuse}/out"}}}), ok),
        "chardev-logfile": (("hostile", "chardev-add", {"id": "f1", "backend": {"type": "null", "data": {"logfile": f"{fuse}/log"}}}), ok),
        "secret-file": (("hostile", "object-add", {"qom-type": "secret", "id": "s0", "file": f"{fuse}/secret"}), ok),
        "xen-save-devices-state": (("hostile", "xen-save-devices-state", {"filename": f"{fuse}/xen"}), ok),
        "blockdev-add": (("hostile", "blockdev-add", {"driver": "raw", "node-name": "n0", "read-only": True,
                                                      "file": {"driver": "file", "filename": f"{fuse}/slow.raw", "read-only": True}}), ok),
        "dumpdtb": (("board", "dumpdtb", {"filename": f"{fuse}/board.dtb"}), ok),
        "snapshot-target": (("hostile", "blockdev-snapshot-sync", {"node-name": "base", "snapshot-file": f"{fuse}/slow.qcow2",
                                                                   "snapshot-node-name": "snap", "mode": "existing",
                                                                   "format": "qcow2"}), ok),
    }


SLOW_OPEN_COMMANDS = ["screendump", "pmemsave", "memsave", "dump-guest-memory", "chardev-file", "chardev-logfile",
                      "secret-file", "xen-save-devices-state", "blockdev-add", "dumpdtb", "snapshot-target"]


@pytest.mark.parametrize("case", SLOW_OPEN_COMMANDS)
def test_a_file_whose_open_is_slow_is_opened_off_the_loop(fleet, files, slow_open_fuse, case):
    """The kernel ignores O_NONBLOCK for an open on FUSE or NFS: an open
    that takes a second on the loop held a bystander's query-status for
    1,005 ms. The open runs on a worker; the bystander answers within
    100 ms, and the client gets QEMU's reply once the open is done."""
    if case == "secret-file":
        with open(os.path.join(slow_open_fuse, "secret"), "w") as secret:  # the test's own open waits too
            secret.write("s3cret")
    (vm, command, arguments), expected = slow_open_cases(slow_open_fuse)[case]
    client = Client(fleet.vm_socket(vm))
    if case == "snapshot-target":  # a node to snapshot, on a quick file
        base = os.path.join(files["allowed"], "base.raw")
        with open(base, "wb") as image:
            image.truncate(1 << 20)
        assert client.execute("blockdev-add", {"driver": "raw", "node-name": "base",
                                               "file": {"driver": "file", "filename": base}}) == {"return": {}}
    started = time.monotonic()
    reply = while_victim_asks(fleet, lambda: client.execute(command, arguments))
    assert reply == expected, reply
    assert time.monotonic() - started >= SLOW_OPEN_SECONDS  # the slow open happened
    assert client.execute("query-status")["return"]["status"] in ("running", "prelaunch")
    client.close()


def test_blockdev_create_opens_its_file_off_the_loop(fleet, slow_open_fuse):
    """blockdev-create answers at once and creates the file in its job, as
    QEMU 7.2 does (created, running, then waiting, pending, concluded);
    the job's open takes a second on a worker, not on the loop."""
    client = Client(fleet.vm_socket("hostile"))
    path = os.path.join(slow_open_fuse, "image")

    def create():
        reply = client.execute("blockdev-create", {"job-id": "c0", "options": {"driver": "file", "filename": path, "size": 1 << 20}})
        assert reply == {"return": {}}, reply
        deadline = time.monotonic() + REPLY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            jobs = client.execute("query-jobs")["return"]
            if jobs and jobs[0]["status"] == "concluded":
                return jobs
            time.sleep(0.05)
        raise AssertionError("the job did not conclude")

    started = time.monotonic()
    jobs = while_victim_asks(fleet, create)
    assert jobs == [{"current-progress": 1, "status": "concluded", "total-progress": 1, "type": "create", "id": "c0"}]
    assert time.monotonic() - started >= SLOW_OPEN_SECONDS
    assert [e["data"]["status"] for e in client.events if e["event"] == "JOB_STATUS_CHANGE"] == [
        "created", "running", "waiting", "pending", "concluded"]
    assert os.path.getsize(path) == 1 << 20
    client.close()


def files_held(pid, directory):
    """The files beneath `directory` the process has open."""
    held = []
    for name in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{name}")
        except FileNotFoundError:
            continue
        if target.startswith(directory + "/"):
            held.append(target)
    return held


def assert_nothing_held(pid, directory):
    """Within two seconds the process holds no file beneath `directory`."""
    held = files_held(pid, directory)
    deadline = time.monotonic() + 2.0
    while held and time.monotonic() < deadline:
        time.sleep(0.05)
        held = files_held(pid, directory)
    assert held == [], f"the fleet still holds {held} after the VM ended"


def test_a_vm_destroyed_during_a_pending_open_leaks_no_descriptor(fleet, slow_open_fuse):
    """vm-destroy while a screendump's open waits on the slow mount: the
    control socket is answered at once (the loop is not in the open), and
    when the open ends the host closes what it opened (the VM is gone):
    the fleet holds no file of the mount afterwards."""
    pid = fleet.process.pid
    control = Client(fleet.control)
    client = Client(fleet.vm_socket("hostile"))
    client.sock.sendall(json.dumps({"execute": "screendump", "arguments": {"filename": f"{slow_open_fuse}/late.ppm"}}).encode() + b"\n")
    time.sleep(0.3)
    started = time.monotonic()
    assert control.execute("vm-destroy", {"name": "hostile"}) == {"return": {}}
    assert time.monotonic() - started < LATENCY_LIMIT_SECONDS * 5  # not after the open
    client.close()
    time.sleep(SLOW_OPEN_SECONDS)  # the open ends on its worker, with a descriptor nobody wants
    assert_nothing_held(pid, slow_open_fuse)
    assert os.path.exists(f"{slow_open_fuse}/late.ppm")  # the open did happen
    assert "hostile" not in [vm["name"] for vm in control.execute("query-vms")["return"]]
    control.close()


def test_a_vm_destroyed_while_tls_credentials_open_leaks_no_descriptor(fleet, slow_open_fuse):
    """tls-creds-x509 opens its dir's files one after another; vm-destroy
    while a later one's open waits on the slow mount: the files opened
    before it are closed too (they were held by the dropped chain), so the
    fleet holds no file of the mount afterwards."""
    for name in ("ca-cert.pem", "server-cert.pem", "server-key.pem"):
        with open(os.path.join(slow_open_fuse, name), "w") as pem:  # the test's own opens wait too
            pem.write("-----BEGIN CERTIFICATE-----\n")
    pid = fleet.process.pid
    control = Client(fleet.control)
    client = Client(fleet.vm_socket("hostile"))
    client.sock.sendall(json.dumps({"execute": "object-add", "arguments": {
        "qom-type": "tls-creds-x509", "id": "x0", "endpoint": "server", "dir": slow_open_fuse}}).encode() + b"\n")
    time.sleep(SLOW_OPEN_SECONDS * 1.5)  # ca-cert.pem is open, server-cert.pem's open waits
    assert files_held(pid, slow_open_fuse) == [f"{slow_open_fuse}/ca-cert.pem"]
    assert control.execute("vm-destroy", {"name": "hostile"}) == {"return": {}}
    client.close()
    time.sleep(SLOW_OPEN_SECONDS)  # the pending open ends on its worker
    assert_nothing_held(pid, slow_open_fuse)
    control.close()


def test_an_object_id_is_taken_while_its_add_opens_files(fleet, slow_open_fuse):
    """object-add of tls-creds-x509 opens its CA file off the loop (a
    second here); another client's object-add of the same id meanwhile is
    a duplicate, as in QEMU, whose object-add does not yield. It was
    accepted: the chardev plugin's rng-builtin and the block plugin's
    credentials both held an object of that id, /objects showed one."""
    with open(os.path.join(slow_open_fuse, "ca-cert.pem"), "w") as pem:  # the test's own open waits too
        pem.write("-----BEGIN CERTIFICATE-----\n")
    first = Client(fleet.vm_socket("hostile"))
    second = Client(fleet.vm_socket("hostile"))
    first.sock.sendall(json.dumps({"execute": "object-add", "arguments": {
        "qom-type": "tls-creds-x509", "id": "o0", "dir": slow_open_fuse}}).encode() + b"\n")
    time.sleep(SLOW_OPEN_SECONDS / 3)  # ca-cert.pem's open waits on its worker
    assert second.execute("object-add", {"qom-type": "rng-builtin", "id": "o0"}) == {"error": {
        "class": "GenericError", "desc": "attempt to add duplicate property 'o0' to object (type 'container')"}}
    assert first.read() == {"return": {}}
    assert second.execute("qom-get", {"path": "/objects/o0", "property": "loaded"}) == {"return": True}
    # The id is free again once its add ended.
    assert second.execute("object-del", {"id": "o0"}) == {"return": {}}
    assert second.execute("object-add", {"qom-type": "rng-builtin", "id": "o0"}) == {"return": {}}
    first.close()
    second.close()


# ------------------------------------------------- dumpdtb's error text ----

DUMPDTB_CASES = {
    "missing-directory": lambda root: os.path.join(root, "missing", "board.dtb"),
    "a-directory": lambda root: made_directory(os.path.join(root, "sub")),
}


def made_directory(path):
    os.makedirs(path, exist_ok=True)
    return path


def glib_temporary_names(text):
    """QEMU 7.2's dumpdtb writes through g_file_set_contents, which first
    creates PATH.XXXXXX (six random letters or digits) and names it in
    its errors: the letters are chance, the rest is QEMU's."""
    return re.sub(r"\.[A-Za-z0-9]{6}\u201d", ".XXXXXX\u201d", text)


@pytest.fixture(scope="module")
def qemu_dumpdtb_errors():
    """qemu-system-aarch64 -machine virt's dumpdtb error for each case."""
    if shutil.which("qemu-system-aarch64") is None:
        pytest.skip("qemu-system-aarch64 is not installed")
    qemu = QemuProcess("virt", paused=True, arch="aarch64")
    try:
        client = Client(qemu.socket)
        errors = {}
        for case, make in DUMPDTB_CASES.items():
            path = make(qemu.dir)
            reply = client.execute("dumpdtb", {"filename": path})
            assert "error" in reply, (case, reply)
            errors[case] = (reply["error"]["class"], glib_temporary_names(reply["error"]["desc"]).replace(path, "{path}"))
        client.close()
        return errors
    finally:
        qemu.close()


@pytest.mark.parametrize("case", DUMPDTB_CASES)
def test_dumpdtb_that_cannot_write_gets_qemus_error(fleet, files, qemu_dumpdtb_errors, case):
    """QEMU 7.2 says "Error saving FDT to file PATH: " and GLib's text
    about its temporary file ("Failed to create file ...", or for a
    directory at PATH "Failed to rename file ..."), not the fleet's old
    "Failed to write dtb to '...'"."""
    client = Client(fleet.vm_socket("board"))
    path = DUMPDTB_CASES[case](files["allowed"])
    reply = client.execute("dumpdtb", {"filename": path})
    assert "error" in reply, reply
    assert (reply["error"]["class"], glib_temporary_names(reply["error"]["desc"])) == (
        qemu_dumpdtb_errors[case][0], qemu_dumpdtb_errors[case][1].replace("{path}", path))
    client.close()


# ------------------------- slow lookups: socket paths and what they unlink ----

SLOW_LOOKUP_SECONDS = 1.0


@pytest.fixture
def slow_lookup_fuse(files):
    """allowed/slowlookup, whose every lookup of a name (its attributes)
    waits a second, uncached: what stat, lstat, a socket's bind, connect
    and probe, and unlink all wait for on a hung mount. O_NONBLOCK does not
    apply to any of them."""
    yield from mount_slow_fuse(files, "slowlookup", 0.0, 0.0, SLOW_LOOKUP_SECONDS)


def unix_socket(path, server=None, reconnect=None):
    data = {"addr": {"type": "unix", "data": {"path": path}}}
    if server is not None:
        data["server"] = server
        data["wait"] = False if server else None
        data = {k: v for k, v in data.items() if v is not None}
    if reconnect is not None:
        data["reconnect"] = reconnect
    return {"type": "socket", "data": data}


def socket_cases(directory):
    """Commands that look a unix socket path up (bind, probe, connect,
    unlink), as a client sends them for `directory`, in order."""
    return [
        ("server", "chardev-add", {"id": "s0", "backend": unix_socket(f"{directory}/server.sock", server=True)}),
        ("server-remove", "chardev-remove", {"id": "s0"}),
        ("client-missing", "chardev-add", {"id": "c0", "backend": unix_socket(f"{directory}/nobody.sock", server=False)}),
        ("client-reconnect", "chardev-add", {"id": "c1", "backend": unix_socket(f"{directory}/later.sock", server=False,
                                                                                   reconnect=1)}),
        ("nbd-start", "nbd-server-start", {"addr": {"type": "unix", "data": {"path": f"{directory}/nbd.sock"}}}),
        ("nbd-stop", "nbd-server-stop", None),
    ]


def qemu_replies(cases):
    """QEMU 7.2's reply to each of `cases(directory)` ((case, command,
    arguments) in order) sent for a plain directory, the directory written
    {dir}."""
    if shutil.which(QEMU_PROGRAM) is None:
        pytest.skip(f"{QEMU_PROGRAM} is not installed")
    qemu = QemuProcess("pc", paused=True)
    try:
        client = Client(qemu.socket)
        replies = {case: json.loads(json.dumps(client.execute(command, arguments)).replace(qemu.dir, "{dir}"))
                   for case, command, arguments in cases(qemu.dir)}
        client.close()
        return replies
    finally:
        qemu.close()


@pytest.fixture(scope="module")
def qemu_socket_replies():
    return qemu_replies(socket_cases)


def test_socket_paths_are_looked_up_off_the_loop(fleet, slow_lookup_fuse, qemu_socket_replies):
    """chardev-add's unix server (its policy check, probe of what is there,
    bind) and client (connect, and a reconnecting client's attempts),
    chardev-remove's unlink, nbd-server-start's bind and nbd-server-stop's
    unlink each look the path up: on a mount whose lookups take a second
    each held a bystander VM's query-status for a second or more. Each runs
    on a worker now; the client gets QEMU's reply once it ends."""
    client = Client(fleet.vm_socket("hostile"))
    for case, command, arguments in socket_cases(slow_lookup_fuse):
        started = time.monotonic()
        reply = while_victim_asks(fleet, lambda: client.execute(command, arguments))
        expected = json.loads(json.dumps(qemu_socket_replies[case]).replace("{dir}", slow_lookup_fuse))
        assert reply == expected, (case, reply)
        if case != "nbd-stop":  # closing the listener first: its unlink's lookup may hit the kernel's cache
            assert time.monotonic() - started >= SLOW_LOOKUP_SECONDS, case  # the slow lookup happened
        if case == "server":
            peer = socket.socket(socket.AF_UNIX)
            peer.connect(f"{slow_lookup_fuse}/server.sock")
            peer.close()
        if case == "server-remove":
            assert not os.path.exists(f"{slow_lookup_fuse}/server.sock")
    # The reconnecting client tries again every second, each a slow lookup.
    while_victim_asks(fleet, lambda: time.sleep(2.5))
    assert not os.path.exists(f"{slow_lookup_fuse}/nbd.sock")
    assert client.execute("query-status")["return"]["status"] in ("running", "prelaunch")
    client.close()


# ------------------------- a failed chardev-add removes its files off the loop ----

def failed_chardev_cases(directory, missing_input):
    """chardev-add that creates a file, then fails: the file a file
    backend's `out` made before its `in` failed, a log file made before
    its ringbuf backend was refused."""
    return {
        "file-in": ("chardev-add", {"id": "f2", "backend": {"type": "file", "data": {
            "out": f"{directory}/made-out", "in": missing_input}}}),
        "ringbuf-logfile": ("chardev-add", {"id": "r0", "backend": {"type": "ringbuf", "data": {
            "size": 3, "logfile": f"{directory}/made-log"}}}),
    }


@pytest.fixture(scope="module")
def qemu_failed_chardev_replies():
    return qemu_replies(lambda directory: [(case, command, arguments) for case, (command, arguments)
                                           in failed_chardev_cases(directory, f"{directory}/missing").items()])


@pytest.mark.parametrize("case", ["file-in", "ringbuf-logfile"])
def test_a_failed_chardev_add_removes_its_file_off_the_loop(fleet, files, slow_open_fuse, qemu_failed_chardev_replies, case):
    """The fleet removes a file a failed chardev-add created (QEMU leaves
    it); on a mount whose unlink takes a second that unlink held the
    bystander for a second. It runs on a worker now, and the client gets
    QEMU's error once the file is gone."""
    missing_input = os.path.join(files["allowed"], "missing")
    command, arguments = failed_chardev_cases(slow_open_fuse, missing_input)[case]
    client = Client(fleet.vm_socket("hostile"))
    reply = while_victim_asks(fleet, lambda: client.execute(command, arguments))
    expected = json.loads(json.dumps(qemu_failed_chardev_replies[case]).replace("{dir}/missing", missing_input)
                          .replace("{dir}", slow_open_fuse))
    assert reply == expected, reply
    assert sorted(os.listdir(slow_open_fuse)) == ["backed.qcow2", "slow.qcow2", "slow.raw"]  # the made file is gone
    client.close()


# ------------------------------------- an fd set's descriptor truncated off the loop ----

def test_an_fd_sets_file_is_truncated_off_the_loop(fleet, slow_open_fuse):
    """screendump to /dev/fdset/N truncates the set's descriptor first, as
    QEMU 7.2's qemu_open does (O_TRUNC): a file the client opened on a
    mount whose truncate takes a second held the bystander for a second.
    The truncate runs on a worker; QEMU's reply is {"return": {}}."""
    client = Client(fleet.vm_socket("hostile"))
    target = os.path.join(slow_open_fuse, "screen-fdset.ppm")
    with open(target, "wb") as old:  # the test's own opens wait too
        old.write(b"old contents, to be truncated")
    fd = os.open(target, os.O_WRONLY)  # at offset 0, shared with the fleet's dup
    reply = client.execute("add-fd", {}, fds=[fd])
    os.close(fd)
    assert "return" in reply, reply
    path = f"/dev/fdset/{reply['return']['fdset-id']}"
    started = time.monotonic()
    reply = while_victim_asks(fleet, lambda: client.execute("screendump", {"filename": path}))
    assert reply == {"return": {}}, reply
    assert time.monotonic() - started >= SLOW_OPEN_SECONDS  # the slow truncate happened
    deadline = time.monotonic() + REPLY_TIMEOUT_SECONDS
    while not open(target, "rb").read().startswith(b"P6") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert open(target, "rb").read().startswith(b"P6\n200 150\n255\n")
    client.close()


# ------------------- a backing file only an image's header names: probed ----

def qcow2_over(path):
    return {"driver": "qcow2", "node-name": "b0", "read-only": True,
            "file": {"driver": "file", "filename": path, "read-only": True}}


def backing_of(client, node):
    nodes = {n["node-name"]: n for n in client.execute("query-named-block-nodes")["return"]}
    return nodes[node].get("backing_file")


@pytest.fixture(scope="module")
def qemu_backing_replies():
    """QEMU 7.2 opening a qcow2 whose header names a backing file (relative,
    as qemu-img -b writes it), and one whose backing file is gone: the
    replies, and the first node's backing_file, the directory written {dir}."""
    for program in (QEMU_PROGRAM, "qemu-img"):
        if shutil.which(program) is None:
            pytest.skip(f"{program} is not installed")
    qemu = QemuProcess("pc", paused=True)
    try:
        # The names slow_fuse.py serves.
        made = [["qemu-img", "create", "-q", "-f", "raw", "slow.raw", "64K"],
                ["qemu-img", "create", "-q", "-f", "qcow2", "-b", "slow.raw", "-F", "raw", "backed.qcow2", "1G"],
                ["qemu-img", "create", "-q", "-f", "qcow2", "-u", "-b", f"{qemu.dir}/gone.raw", "-F", "raw", "orphan.qcow2", "1G"]]
        for command in made:
            subprocess.run(command, cwd=qemu.dir, check=True)
        client = Client(qemu.socket)
        backed = client.execute("blockdev-add", qcow2_over(f"{qemu.dir}/backed.qcow2"))
        backing = backing_of(client, "b0")
        orphan = client.execute("blockdev-add", dict(qcow2_over(f"{qemu.dir}/orphan.qcow2"), **{"node-name": "o0"}))
        client.close()
        return json.loads(json.dumps({"backed": backed, "backing": backing, "orphan": orphan}).replace(qemu.dir, "{dir}"))
    finally:
        qemu.close()


def test_a_backing_file_the_header_names_is_probed_off_the_loop(fleet, files, slow_fuse, qemu_backing_replies):
    """No argument names the backing file of a qcow2 image: only its header
    does, read on a worker. The handler finds the file unprobed; its answer
    is held back, the file is probed off the loop (its read takes a second
    on this mount), and the handler runs again: QEMU's reply and backing
    node, the bystander answered within 100 ms throughout. (Before: the
    header's backing file was not read at all; a refusal of the unforeseen
    path would have been an open failure QEMU does not give.)"""
    client = Client(fleet.vm_socket("hostile"))
    started = time.monotonic()
    reply = while_victim_asks(fleet, lambda: client.execute("blockdev-add", qcow2_over(f"{slow_fuse}/backed.qcow2")))
    assert reply == qemu_backing_replies["backed"], reply
    assert time.monotonic() - started >= 2 * SLOW_READ_SECONDS  # both headers were read
    assert backing_of(client, "b0") == qemu_backing_replies["backing"].replace("{dir}", slow_fuse)
    orphan = os.path.join(files["allowed"], "orphan.qcow2")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-u", "-b", f"{files['allowed']}/gone.raw", "-F", "raw",
                    orphan, "1G"], check=True)
    reply = while_victim_asks(fleet, lambda: client.execute("blockdev-add", dict(qcow2_over(orphan), **{"node-name": "o0"})))
    assert reply == json.loads(json.dumps(qemu_backing_replies["orphan"]).replace("{dir}", files["allowed"])), reply
    client.close()


# ------------- chardevs the config or an incoming migration makes: opened off the loop ----

HOSTILE_PLUGINS = {"block": {}, "chardev": {}, "dump": {}, "colo": {}, "migration": {},
                   "display": {"width": WIDTH, "height": HEIGHT}}


def wait_for(predicate, what, timeout=REPLY_TIMEOUT_SECONDS):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"no {what} after {timeout} s"
        time.sleep(0.05)


def test_a_config_chardev_file_is_opened_off_the_loop(fleet, slow_open_fuse):
    """vm-create with a serial console writing to a file on a mount whose
    creates take a second: the VM's config opened it on the loop, holding
    the bystander a second. The chardev now exists at once and its file
    opens on a worker; the boot log reaches the file."""
    control = Client(fleet.control)
    console = os.path.join(slow_open_fuse, "console.log")
    config = {"machine": "pc-i440fx-7.2", "memory": {"size": "128M"},
              "plugins": {"chardev": {"serial": [{"id": "serial0", "backend": "file", "path": console}]}}}
    reply = while_victim_asks(fleet, lambda: control.execute("vm-create", {"name": "late", "config": config}))
    assert "return" in reply, reply
    client = Client(fleet.vm_socket("late"))
    assert [c["label"] for c in client.execute("query-chardev")["return"]] == ["serial0"]
    while_victim_asks(fleet, lambda: wait_for(lambda: b"login:" in open(console, "rb").read(), "boot log in the file"))
    client.close()
    control.close()


def test_an_incoming_migrations_chardev_file_is_opened_off_the_loop(fleet, files, slow_open_fuse):
    """A file chardev only the source has is made on the target from its
    spec as the migration lands (appending): on a mount whose opens take a
    second the target's loop opened it there. It opens on a worker now;
    the migration completes as QEMU's does and the target lists the chardev."""
    control = Client(fleet.control)
    source = Client(fleet.vm_socket("hostile"))
    out = os.path.join(slow_open_fuse, "migrated.log")
    assert source.execute("chardev-add", {"id": "m0", "backend": {"type": "file", "data": {"out": out}}}) == {"return": {}}
    config = {"machine": "pc-i440fx-7.2", "memory": {"size": "128M"}, "incoming": "defer", "plugins": HOSTILE_PLUGINS}
    assert "return" in control.execute("vm-create", {"name": "target", "config": config})
    target = Client(fleet.vm_socket("target"))
    uri = f"unix:{files['root']}/migrate.sock"

    def migrate():
        assert target.execute("migrate-incoming", {"uri": uri}) == {"return": {}}
        assert source.execute("migrate", {"uri": uri}) == {"return": {}}
        wait_for(lambda: source.execute("query-migrate")["return"].get("status") in ("completed", "failed"), "migration end")
        wait_for(lambda: target.execute("query-status")["return"]["status"] != "inmigrate", "target out of inmigrate")

    while_victim_asks(fleet, migrate)
    assert source.execute("query-migrate")["return"]["status"] == "completed"
    assert "m0" in [c["label"] for c in target.execute("query-chardev")["return"]]
    for client in (target, source, control):
        client.close()
