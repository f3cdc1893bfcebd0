"""Descriptors a client passes and never drains (issue 16): they must hold
neither a loop thread nor a thread of libuv's pool, which every VM of the
process shares (4 threads: four writes stuck on pipes and every VM's file
I/O waits).

VM "hostile"'s clients hand it pipes they filled and do not read, then
start what QEMU 7.2 accepts on them and blocks its main loop on until
they are drained: a kdump dump-guest-memory to a getfd pipe, file
chardevs (append: true) whose guest writes, screendumps to an fd set's
pipe (QEMU refuses those: its fd-set open truncates, and a pipe cannot
be). Meanwhile VM "victim" must save its memory to a regular file within
5 s and answer query-status within 100 ms the whole time. Once the pipes
are drained, the hostile commands complete with QEMU's answers.

The loop-side read (xen-load-devices-state from an fd set's pipe nobody
writes) is checked the same way: the loop answers the victim while the
read waits, and the command answers when the bytes come.
"""
import json
import os
import shutil
import socket
import threading
import time

import pytest

from conftest import QEMU_PROGRAM, FleetProcess, QemuProcess, required_fleet_binary, short_tempdir
from process_usage import fd_count, settle
from test_adversarial_files import Client, while_victim_asks

# Bounds a latency (see pytest.ini: serial): runs alone, not beside other files.
pytestmark = pytest.mark.serial

#: What VM B's file I/O may take while VM A's clients hold their pipes.
POOL_FREE_SECONDS = 5.0
#: Guest output written to each undrained file chardev.
CHARDEV_TEXT = 100_000
CHARDEVS = 4
SCREENDUMPS = 2


def filled_pipe():
    """A pipe whose write end is blocking, as a client passes it, and full."""
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    try:
        while True:
            os.write(write_end, b"y" * 65536)
    except BlockingIOError:
        pass
    os.set_blocking(write_end, True)
    return read_end, write_end


def add_to_fdset(client, fd):
    reply = client.execute("add-fd", {}, fds=[fd])
    os.close(fd)
    assert "return" in reply, reply
    return f"/dev/fdset/{reply['return']['fdset-id']}"


class Drain(threading.Thread):
    """Reads a pipe to its end once `go` is set, counting the bytes."""

    def __init__(self, fd, go):
        super().__init__(daemon=True)
        self.fd, self.go, self.count = fd, go, 0
        self.start()

    def run(self):
        self.go.wait()
        while True:
            chunk = os.read(self.fd, 65536)
            if not chunk:
                break
            self.count += len(chunk)
        os.close(self.fd)


class Pending(threading.Thread):
    """One command on its own client, answered whenever it is."""

    def __init__(self, path, command, arguments, timeout=60.0):
        super().__init__(daemon=True)
        self.client = Client(path, timeout=timeout)
        self.command, self.arguments = command, arguments
        self.reply = None
        self.started = threading.Event()

    def prepare(self, fn):
        """Runs fn(client) before the command (passing fds on its socket)."""
        self.arguments = fn(self.client)
        return self

    def run(self):
        self.started.set()
        try:
            self.reply = self.client.execute(self.command, self.arguments)
        except Exception as error:  # the fleet closed or timed out
            self.reply = {"exception": repr(error)}


def screendump_to_a_read_write_fd(client):
    """A regular file opened read-write in an fd set, asked for write-only."""
    directory = short_tempdir("ap-rw-")
    try:
        fd = os.open(os.path.join(directory, "rw"), os.O_RDWR | os.O_CREAT, 0o600)
        path = add_to_fdset(client, fd)
        reply = client.execute("screendump", {"filename": path})
        if "error" in reply:
            reply["error"]["desc"] = reply["error"]["desc"].replace(path, "{path}")
        return reply
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def qemu_answers():
    """QEMU 7.2 on the same descriptors: a screendump to an fd set's pipe,
    a file chardev appending to one, a kdump to a getfd pipe drained after
    a second (QEMU blocks until then, then answers)."""
    if shutil.which(QEMU_PROGRAM) is None:
        pytest.skip(f"{QEMU_PROGRAM} is not installed")
    qemu = QemuProcess("pc", paused=True, extra=("-vga", "std"))
    try:
        client = Client(qemu.socket, timeout=30)
        read_end, write_end = filled_pipe()
        path = add_to_fdset(client, write_end)
        answers = {"screendump": client.execute("screendump", {"filename": path})}
        answers["screendump"]["error"]["desc"] = answers["screendump"]["error"]["desc"].replace(path, "{path}")
        answers["chardev-add"] = client.execute(
            "chardev-add", {"id": "f0", "backend": {"type": "file", "data": {"out": path, "append": True}}})
        os.close(read_end)
        read_end, write_end = filled_pipe()
        assert client.execute("getfd", {"fdname": "dump"}, fds=[write_end]) == {"return": {}}
        os.close(write_end)
        go = threading.Event()
        drain = Drain(read_end, go)
        threading.Timer(1.0, go.set).start()
        answers["dump"] = client.execute(
            "dump-guest-memory", {"paging": False, "protocol": "fd:dump", "format": "kdump-zlib"})
        answers["dump-events"] = [event["event"] for event in client.events]
        drain.join(10)
        read_end, write_end = os.pipe()
        path = add_to_fdset(client, read_end)
        answers["secret"] = client.execute("object-add", {"qom-type": "secret", "id": "s0", "file": path})
        answers["secret"]["error"]["desc"] = answers["secret"]["error"]["desc"].replace(path, "{path}")
        os.close(write_end)
        answers["read-write"] = screendump_to_a_read_write_fd(client)
        client.close()
        return answers
    finally:
        qemu.close()


def start_fleet(stall_ms):
    root = short_tempdir("ap-")
    allowed = os.path.join(root, "allowed")
    os.mkdir(allowed, 0o700)

    def config(socket_dir):
        return (f"socket-dir: {socket_dir}\n"
                f"loops: 1\n"
                f"allowed-file-dirs: [{allowed}]\n"
                f"limits: {{fd-stall-ms: {stall_ms}}}\n"
                f"vms:\n"
                f"  - {{name: hostile, machine: pc-i440fx-7.2, memory: {{size: 128M}}, plugins: "
                f"{{block: {{}}, chardev: {{}}, dump: {{}}, display: {{width: 200, height: 150}}, migration: {{}}}}}}\n"
                f"  - {{name: victim, machine: pc-i440fx-7.2, memory: {{size: 128M}}}}\n")
    process = FleetProcess.on_config(required_fleet_binary(), ["hostile", "victim"], config)
    process.allowed, process.root = allowed, root
    return process


def stop_fleet(process):
    process.kill()
    process.cleanup()
    shutil.rmtree(process.root, ignore_errors=True)


@pytest.fixture
def fleet():
    process = start_fleet(60000)
    yield process
    stop_fleet(process)


@pytest.fixture
def impatient_fleet():
    """fd-stall-ms 300: a transfer that moves nothing that long fails."""
    process = start_fleet(300)
    yield process
    stop_fleet(process)


def test_undrained_pipes_of_one_vm_leave_the_pool_to_the_others(fleet, qemu_answers):
    hostile = fleet.vm_socket("hostile")
    go = threading.Event()
    drains = []

    # A kdump to a getfd pipe: QEMU blocks until it is drained.
    def pass_dump_pipe(client):
        read_end, write_end = filled_pipe()
        assert client.execute("getfd", {"fdname": "dump"}, fds=[write_end]) == {"return": {}}
        os.close(write_end)
        drains.append(Drain(read_end, go))
        return {"paging": False, "protocol": "fd:dump", "format": "kdump-zlib"}
    dump = Pending(hostile, "dump-guest-memory", None).prepare(pass_dump_pipe)

    # Screendumps to fd sets' pipes: QEMU's answer is its fd-set open's EINVAL.
    def pass_screen_pipe(client):
        read_end, write_end = filled_pipe()
        drains.append(Drain(read_end, go))
        return {"filename": add_to_fdset(client, write_end)}
    screendumps = [Pending(hostile, "screendump", None).prepare(pass_screen_pipe) for _ in range(SCREENDUMPS)]

    # File chardevs appending to fd sets' pipes, and guest output for each.
    client = Client(hostile)
    control = Client(fleet.control)
    chardev_drains = []
    for index in range(CHARDEVS):
        read_end, write_end = filled_pipe()
        path = add_to_fdset(client, write_end)
        reply = client.execute("chardev-add", {"id": f"f{index}", "backend": {
            "type": "file", "data": {"out": path, "append": True}}})
        assert reply == qemu_answers["chardev-add"], reply
        chardev_drains.append(Drain(read_end, go))

    def hold_the_pipes_then_save():
        dump.start()
        for pending in screendumps:
            pending.start()
        for index in range(CHARDEVS):
            assert control.execute("guest-action", {
                "vm": "hostile", "plugin": "chardev", "action": "console-write",
                "arguments": {"chardev": f"f{index}", "text": "x" * CHARDEV_TEXT}}) == {"return": {}}
        time.sleep(0.3)  # what the pipes hold now, they hold until drained
        saver = Client(fleet.vm_socket("victim"), timeout=POOL_FREE_SECONDS + 5)
        start = time.monotonic()
        reply = saver.execute("pmemsave", {"val": 0, "size": 1 << 20,
                                           "filename": os.path.join(fleet.allowed, "victim.bin")})
        took = time.monotonic() - start
        saver.close()
        return reply, took

    try:
        reply, took = while_victim_asks(fleet, hold_the_pipes_then_save)
        print(f"victim's pmemsave with the hostile transfers pending: {took * 1000:.1f} ms")
        assert reply == {"return": {}}, reply
        assert took < POOL_FREE_SECONDS, f"the victim's pmemsave took {took:.1f} s"
        assert os.path.getsize(os.path.join(fleet.allowed, "victim.bin")) == 1 << 20

        for pending in screendumps:
            pending.join(10)
            assert pending.reply is not None, "screendump to an fd set's pipe did not answer"
            path = pending.arguments["filename"]
            expected = dict(qemu_answers["screendump"])
            expected["error"] = {**expected["error"], "desc": expected["error"]["desc"].replace("{path}", path)}
            assert pending.reply == expected
        assert dump.is_alive() and dump.reply is None, f"the dump answered before its pipe was drained: {dump.reply}"
    finally:
        go.set()
    dump.join(30)
    assert dump.reply == qemu_answers["dump"], dump.reply
    assert [event["event"] for event in dump.client.events] == qemu_answers["dump-events"]
    for drain in chardev_drains:
        deadline = time.monotonic() + 10
        while drain.count < 65536 + CHARDEV_TEXT and time.monotonic() < deadline:
            time.sleep(0.05)
        assert drain.count >= 65536 + CHARDEV_TEXT, drain.count
    for index in range(CHARDEVS):
        assert client.execute("chardev-remove", {"id": f"f{index}"}) == {"return": {}}
    assert client.execute("query-status")["return"]["status"] == "running"
    for pending in [dump, *screendumps]:
        pending.client.close()
    client.close()
    control.close()


@pytest.mark.parametrize("payload, expected", [
    (b"QEVM\0\0\0\3\x1f", {"return": {}}),
    (b"junk", {"error": {"class": "GenericError", "desc": "An IO error has occurred"}}),
])
def test_xen_load_devices_state_waits_for_a_pipe_off_the_loop(fleet, payload, expected):
    """QEMU 7.2 blocks its main loop reading the fd set's pipe (and then
    aborts in yank_unregister_instance whatever it reads); the fleet waits
    on its loop without blocking it and answers as it does for a file."""
    client = Client(fleet.vm_socket("hostile"))
    read_end, write_end = os.pipe()
    path = add_to_fdset(client, read_end)
    pending = Pending(fleet.vm_socket("hostile"), "xen-load-devices-state", {"filename": path})

    def wait_then_write():
        pending.start()
        time.sleep(0.5)
        assert pending.reply is None, pending.reply
        os.write(write_end, payload)
        os.close(write_end)
        pending.join(10)
        return pending.reply

    reply = while_victim_asks(fleet, wait_then_write)
    assert reply == expected
    pending.client.close()
    client.close()


def test_a_secrets_file_is_a_path_not_an_fd_set(fleet, qemu_answers):
    """QEMU reads a secret's file with g_file_get_contents: /dev/fdset/N is
    a path that does not exist there, so no client's pipe is ever read."""
    client = Client(fleet.vm_socket("hostile"))
    read_end, write_end = os.pipe()
    path = add_to_fdset(client, read_end)
    reply = while_victim_asks(fleet, lambda: client.execute(
        "object-add", {"qom-type": "secret", "id": "s0", "file": path}))
    expected = {"error": {**qemu_answers["secret"]["error"],
                          "desc": qemu_answers["secret"]["error"]["desc"].replace("{path}", path)}}
    assert reply == expected
    os.close(write_end)
    client.close()


def test_an_fd_set_serves_only_its_access_mode(fleet, qemu_answers):
    """QEMU's monitor_fdset_dup_fd_add takes an fd of exactly the mode
    asked for: a read-write file does not serve screendump's write-only
    open."""
    client = Client(fleet.vm_socket("hostile"))
    assert screendump_to_a_read_write_fd(client) == qemu_answers["read-write"]
    client.close()


def test_a_pipe_that_takes_nothing_fails_after_fd_stall_ms(impatient_fleet):
    """QEMU would wait for ever; the fleet answers once fd-stall-ms pass
    with nothing moved: the kdump with its header error after
    DUMP_COMPLETED, xen-load-devices-state with its I/O error."""
    client = Client(impatient_fleet.vm_socket("hostile"))
    read_end, write_end = filled_pipe()
    assert client.execute("getfd", {"fdname": "held"}, fds=[write_end]) == {"return": {}}
    os.close(write_end)
    unwritten_read, unwritten_write = os.pipe()
    path = add_to_fdset(client, unwritten_read)

    def both():
        start = time.monotonic()
        dump = client.execute("dump-guest-memory", {"paging": False, "protocol": "fd:held", "format": "kdump-zlib"})
        load = client.execute("xen-load-devices-state", {"filename": path})
        return dump, load, time.monotonic() - start

    dump, load, took = while_victim_asks(impatient_fleet, both)
    assert dump == {"error": {"class": "GenericError", "desc": "dump: failed to write kdump header"}}
    assert [event["event"] for event in client.events] == ["DUMP_COMPLETED"]
    assert load == {"error": {"class": "GenericError", "desc": "An IO error has occurred"}}
    # Two stalls of 300 ms; libuv times them from the loop's cached clock,
    # read when the turn began, so each may end a little before 300 ms of
    # the client's clock (0.5998 s was measured for both).
    assert 0.55 <= took < 5.0, took
    os.close(read_end)
    os.close(unwritten_write)
    client.close()


# ------------------------------------ a VM's end lets go of its pipes ----

@pytest.fixture
def two_boards():
    """hostile (pc, with the dump plugin) and board (aarch64 virt, which
    has a device tree for dumpdtb); fd-stall-ms 60 s, so only the VM's end
    can let a transfer go within the test."""
    root = short_tempdir("ap-")

    def config(socket_dir):
        return (f"socket-dir: {socket_dir}\n"
                f"loops: 1\n"
                f"limits: {{fd-stall-ms: 60000}}\n"
                f"vms:\n"
                f"  - {{name: hostile, machine: pc-i440fx-7.2, memory: {{size: 128M}}, plugins: {{dump: {{}}}}}}\n"
                f"  - {{name: board, arch: aarch64, machine: virt, memory: {{size: 128M}}}}\n")
    process = FleetProcess.on_config(required_fleet_binary(), ["hostile", "board"], config)
    process.root = root
    yield process
    stop_fleet(process)


@pytest.mark.parametrize("vm, command", [
    ("board", ("dumpdtb", {"filename": "fd:held"})),
    ("hostile", ("dump-guest-memory", {"paging": False, "protocol": "fd:held", "format": "kdump-zlib"})),
])
def test_a_transfer_to_a_pipe_ends_with_its_vm(two_boards, vm, command):
    """vm-destroy while a command writes to a full pipe its client passed:
    the transfer is cancelled and the fleet holds none of the VM's
    descriptors afterwards (QEMU has one VM per process: its pipes go
    with it. The dump plugin's case guards what the host already did for
    plugins' fd_transfer; dumpdtb's transfer is the core's own.)"""
    pid = two_boards.process.pid
    control = Client(two_boards.control)
    client = Client(two_boards.vm_socket(vm))
    baseline = fd_count(pid)
    read_end, write_end = filled_pipe()
    assert client.execute("getfd", {"fdname": "held"}, fds=[write_end]) == {"return": {}}
    os.close(write_end)
    name, arguments = command
    client.sock.sendall(json.dumps({"execute": name, "arguments": arguments}).encode() + b"\n")
    time.sleep(0.3)
    assert fd_count(pid) > baseline  # the pipe is held while the command waits on it
    assert control.execute("vm-destroy", {"name": vm}) == {"return": {}}
    # The VM's client connection goes too: fewer than before it.
    # The VM's listening socket and its client's connection go with it.
    expected = baseline - 2
    assert settle(pid, expected, timeout=2.0) == expected, \
        f"{fd_count(pid) - expected} descriptors left after the VM ended"
    os.close(read_end)
    client.close()
    control.close()


# ------------------------------------- an ELF core written to a pipe ----

class Collect(threading.Thread):
    """Reads a pipe to its end, keeping the bytes."""

    def __init__(self, fd):
        super().__init__(daemon=True)
        self.fd, self.chunks = fd, []
        self.start()

    def run(self):
        while True:
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                break
            self.chunks.append(chunk)
        os.close(self.fd)

    def data(self):
        self.join(30)
        return b"".join(self.chunks)


def elf_core_extent(data):
    """An ELF64 core's header says how long it is: the end of what its
    program headers and section headers (QEMU writes a .shstrtab) cover."""
    assert data[:4] == b"\x7fELF" and data[4] == 2, data[:16]

    def number(at, size):
        return int.from_bytes(data[at:at + size], "little")

    end = 0
    for table, entry_size, count, offset_at, size_at in (
            (number(32, 8), number(54, 2), number(56, 2), 8, 32),    # program headers: p_offset, p_filesz
            (number(40, 8), number(58, 2), number(60, 2), 24, 32)):  # section headers: sh_offset, sh_size
        if count:
            end = max(end, table + count * entry_size)
        for index in range(count):
            entry = table + index * entry_size
            end = max(end, number(entry + offset_at, 8) + number(entry + size_at, 8))
    return end


def elf_dump_to_a_pipe(client):
    """dump-guest-memory (ELF) to a getfd pipe a reader drains: the reply,
    the events and the bytes that came through."""
    read_end, write_end = os.pipe()
    assert client.execute("getfd", {"fdname": "elf"}, fds=[write_end]) == {"return": {}}
    os.close(write_end)
    collect = Collect(read_end)
    client.events.clear()
    reply = client.execute("dump-guest-memory", {"paging": False, "protocol": "fd:elf"})
    return reply, [event["event"] for event in client.events], collect.data()


@pytest.fixture(scope="module")
def qemu_elf_to_a_pipe():
    if shutil.which(QEMU_PROGRAM) is None:
        pytest.skip(f"{QEMU_PROGRAM} is not installed")
    qemu = QemuProcess("pc", paused=True, extra=("-m", "16"))
    try:
        client = Client(qemu.socket, timeout=30)
        answer = elf_dump_to_a_pipe(client)
        client.close()
        return answer
    finally:
        qemu.close()


def test_an_elf_core_goes_to_a_pipe_in_order(fleet, qemu_elf_to_a_pipe):
    """QEMU 7.2 writes an ELF core to a pipe passed with getfd in order
    (17,040,523 bytes for its 16 MiB pc guest, the length its program
    and section headers give). The fleet writes the same file it writes to a regular
    file, byte for byte, in order, through the loop as the pipe drains."""
    reply, events, data = qemu_elf_to_a_pipe
    assert reply == {"return": {}} and events == ["DUMP_COMPLETED"]
    assert len(data) == elf_core_extent(data)
    client = Client(fleet.vm_socket("hostile"))
    got_reply, got_events, got = while_victim_asks(fleet, lambda: elf_dump_to_a_pipe(client))
    assert (got_reply, got_events) == (reply, events)
    assert client.execute("query-dump")["return"] == {"status": "completed", "completed": 128 << 20, "total": 128 << 20}
    assert len(got) == elf_core_extent(got)
    path = os.path.join(fleet.allowed, "core")
    assert client.execute("dump-guest-memory", {"paging": False, "protocol": "file:" + path}) == {"return": {}}
    with open(path, "rb") as f:
        assert f.read() == got
    client.close()
