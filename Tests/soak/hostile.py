"""Hostile clients for the soak's `--hostile` run (issue 16): each one acts
as a client of one VM that tries to hurt the fleet, again and again until the
deadline, the way Tests/protocol/test_adversarial*.py send each case once.

They do not judge the replies (the protocol tests compare them with QEMU
7.2); they count what happened, so that the run can show that they were
really answered, refused or cut off, while the soak's own clients and the
probes (probes.py) measure what everybody else noticed.

Each actor is `async def actor(path, deadline, tally)`; `ACTORS` names them.
"""
import array
import asyncio
import json
import os
import socket
import time

INT64_MAX = 2**63 - 1
UINT64_MAX = 2**64 - 1
#: Distinct keys in the large object (about 6 MB, inside QEMU's token
#: limits), then one repeated: "JSON parse error, duplicate key".
MANY_KEYS = 500_000
#: Nesting past QEMU's limit of 1024.
DEEP = 1030
#: Seconds between two sends of the large messages (each is ~6 MB of work).
LARGE_EVERY_SECONDS = 10.0
#: Descriptors one passer tries to leave with the VM (past `fds-per-vm`, 256).
FDS_TO_PASS = 300
#: Connections that never negotiate, held by one actor at once.
IDLE_CONNECTIONS = 40
READ_TIMEOUT_SECONDS = 30.0
#: Commands one pipe holder keeps waiting on pipes it never drains at once.
PIPES_HELD = 4

#: Integer extremes in commands that trapped before issue 16 or take QAPI
#: integers; every one must get a reply (an error or a return).
EXTREMES = [
    ("chardev-add", {"id": "hx", "backend": {"type": "socket", "data": {
        "addr": {"type": "unix", "data": {"path": "/nonexistent/x.sock"}}, "server": False,
        "reconnect": INT64_MAX}}}),
    ("chardev-remove", {"id": "hx"}),
    ("send-key", {"keys": [{"type": "qcode", "data": "a"}], "hold-time": INT64_MAX}),
    ("send-key", {"keys": [{"type": "qcode", "data": "a"}], "hold-time": -1}),
    ("expire_password", {"protocol": "vnc", "time": f"+{INT64_MAX}"}),
    ("migrate-set-parameters", {"max-bandwidth": UINT64_MAX}),
    ("migrate-set-parameters", {"downtime-limit": INT64_MAX}),
    ("migrate-set-parameters", {"xbzrle-cache-size": INT64_MAX}),
    ("calc-dirty-rate", {"calc-time": INT64_MAX}),
    ("balloon", {"value": INT64_MAX}),
    ("balloon", {"value": -1}),
    ("query-status", {"x": 2**64}),
    ("pmemsave", {"val": INT64_MAX, "size": INT64_MAX, "filename": "/nonexistent/m"}),
    ("memsave", {"val": UINT64_MAX, "size": UINT64_MAX, "filename": "/nonexistent/m"}),
    ("block_resize", {"node-name": "nothing", "size": INT64_MAX}),
    ("trace-event-set-state", {"name": "*", "enable": True, "vcpu": INT64_MAX}),
]


class Tally:
    """What the hostile clients did, by kind of outcome."""

    def __init__(self):
        self.counts = {}

    def add(self, what, n=1):
        self.counts[what] = self.counts.get(what, 0) + n

    def __str__(self):
        return ", ".join(f"{k} {v}" for k, v in sorted(self.counts.items()))


class Connection:
    """A QMP connection whose replies the actor may read or ignore."""

    @classmethod
    async def open(cls, path, negotiate=True):
        self = cls()
        self.reader, self.writer = await asyncio.open_unix_connection(path, limit=1 << 25)
        if negotiate:
            await self.read()
            self.writer.write(b'{"execute": "qmp_capabilities"}')
            await self.read()
        return self

    async def read(self):
        while True:
            line = await asyncio.wait_for(self.reader.readline(), READ_TIMEOUT_SECONDS)
            if not line:
                raise ConnectionError("closed by the fleet")
            message = json.loads(line)
            if "event" not in message:
                return message

    async def until_closed(self, deadline):
        """Reads nothing the actor wants; True when the fleet closed it before `deadline`."""
        return await until_eof(lambda: self.reader.read(1 << 16), deadline)

    def close(self):
        self.writer.close()


def outcome(reply):
    return "return" if "return" in reply else reply.get("error", {}).get("class", "?")


async def integer_extremes(path, deadline, tally):
    """Pipelines every extreme at once, reads every reply."""
    conn = await Connection.open(path)
    try:
        while time.monotonic() < deadline:
            conn.writer.write(b"".join(json.dumps({"execute": c, "arguments": a}).encode() for c, a in EXTREMES))
            for _ in EXTREMES:
                tally.add(f"extreme {outcome(await conn.read())}")
            await asyncio.sleep(0.05)
    finally:
        conn.close()


def many_keys(count):
    return ("{" + ", ".join(f'"k{i}": 0' for i in range(count)) + ', "k0": 1}').encode()


async def large_messages(path, deadline, tally):
    """A 500,000-key object with a duplicate, then a 1,030-deep nesting,
    every LARGE_EVERY_SECONDS, on a fresh connection each time."""
    keys = many_keys(MANY_KEYS)
    deep = b"[" * DEEP + b"]" * DEEP
    while time.monotonic() < deadline:
        started = time.monotonic()
        conn = await Connection.open(path)
        try:
            for data, name in ((keys, "500k keys"), (deep, "deep nesting")):
                conn.writer.write(data)
                reply = await conn.read()
                tally.add(f"{name} {reply.get('error', {}).get('desc', outcome(reply))}")
        finally:
            conn.close()
        await asyncio.sleep(max(0.0, LARGE_EVERY_SECONDS - (time.monotonic() - started)))


async def never_reads(path, deadline, tally):
    """Asks for query-qmp-schema (~150 KB each) and never reads: the fleet
    must cut it off after `session-output-stall-ms` and keep nothing. A
    plain socket with a small receive buffer (an asyncio stream would read
    the replies into its own buffer, which is reading)."""
    loop = asyncio.get_running_loop()
    while time.monotonic() < deadline:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        try:
            await loop.sock_connect(sock, path)
            await loop.sock_sendall(sock, b'{"execute": "qmp_capabilities"}' + b'{"execute": "query-qmp-schema"}' * 200)
            # Reads nothing for longer than the fleet allows (10 s by default).
            await asyncio.sleep(min(12.0, max(0.0, deadline - time.monotonic())))
            if time.monotonic() < deadline:
                tally.add("never-reader cut off" if await until_eof(lambda: loop.sock_recv(sock, 1 << 16), deadline) else "never-reader kept")
        except (ConnectionError, OSError):
            tally.add("never-reader cut off")
        finally:
            sock.close()


async def until_eof(read, deadline):
    """Calls `read()` (a coroutine giving bytes) until it gives none or the
    peer resets: True when that happens before `deadline`."""
    while time.monotonic() < deadline:
        try:
            if not await asyncio.wait_for(read(), max(0.01, deadline - time.monotonic())):
                return True
        except asyncio.TimeoutError:
            return False
        except ConnectionError:
            return True
    return False


async def half_closes(path, deadline, tally):
    """Sends requests, shuts its write side, never reads: the fleet answers
    what it sent within `final-flush-ms`, then closes."""
    while time.monotonic() < deadline:
        reader, writer = await asyncio.open_unix_connection(path)
        writer.write(b'{"execute": "qmp_capabilities"}' + b'{"execute": "query-qmp-schema"}' * 50)
        writer.write_eof()
        await asyncio.sleep(1.0)
        writer.close()
        tally.add("half-closed")


async def idle_connections(path, deadline, tally):
    """Holds IDLE_CONNECTIONS connections that never negotiate: each is
    closed after `negotiation-timeout-ms`, then opened again."""
    async def one():
        while time.monotonic() < deadline:
            try:
                conn = await Connection.open(path, negotiate=False)
            except OSError:
                tally.add("idle refused")
                await asyncio.sleep(1)
                continue
            closed = await conn.until_closed(deadline)
            conn.close()
            if closed:
                tally.add("idle closed by the fleet")
    await asyncio.gather(*(one() for _ in range(IDLE_CONNECTIONS)))


async def passes_descriptors(path, deadline, tally):
    """Passes one pipe end again and again with `getfd` under new names
    until `fds-per-vm` refuses, then closes them all with `closefd` (a
    blocking client in a thread: asyncio's streams cannot pass descriptors)."""
    await asyncio.to_thread(_pass_descriptors, path, deadline, tally)


class BlockingClient:
    """A negotiated QMP client on a blocking socket that can pass an fd
    with a command (asyncio's streams cannot pass descriptors)."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(READ_TIMEOUT_SECONDS)
        self.stream = None
        self.sock.connect(path)
        self.stream = self.sock.makefile("rb")
        self.stream.readline()  # greeting
        self.call("qmp_capabilities")

    def call(self, command, arguments=None, fd=None):
        message = json.dumps({"execute": command, **({"arguments": arguments} if arguments else {})}).encode()
        ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))] if fd is not None else []
        self.sock.sendmsg([message], ancillary)
        while True:
            line = self.stream.readline()
            if not line:
                raise ConnectionError("closed by the fleet")
            reply = json.loads(line)
            if "event" not in reply:
                return reply

    def close(self):
        if self.stream:
            self.stream.close()
        self.sock.close()


def _pass_descriptors(path, deadline, tally):
    read_end, write_end = os.pipe()
    client = None
    try:
        client = BlockingClient(path)
        call = client.call
        while time.monotonic() < deadline:
            passed = 0
            for i in range(FDS_TO_PASS):
                reply = call("getfd", {"fdname": f"f{i}"}, fd=write_end)
                if "error" in reply:
                    tally.add(f"getfd refused: {reply['error']['desc']}")
                    break
                passed += 1
            tally.add("getfd kept", passed)
            for i in range(passed):
                call("closefd", {"fdname": f"f{i}"})
            time.sleep(0.2)
    finally:
        if client:
            client.close()
        os.close(read_end)
        os.close(write_end)


async def holds_pipes(path, deadline, tally):
    """Hands the VM pipes it fills and never drains (or never writes), then
    waits on them: a kdump to a getfd pipe and xen-load-devices-state from
    an fd set's pipe, PIPES_HELD at once, round after round. QEMU blocks
    its main loop on each; the fleet may hold no loop or pool thread for
    them (DescriptorTransfer), and answers each when fd-stall-ms pass."""
    await asyncio.gather(*(asyncio.to_thread(_hold_pipes, path, deadline, tally, index)
                           for index in range(PIPES_HELD)))


def _hold_pipes(path, deadline, tally, index):
    while time.monotonic() < deadline:
        read_end, write_end = os.pipe()
        client = None
        try:
            client = BlockingClient(path)
            if index == 0:
                os.set_blocking(write_end, False)
                try:
                    while True:
                        os.write(write_end, b"y" * 65536)
                except BlockingIOError:
                    pass
                os.set_blocking(write_end, True)
                client.call("getfd", {"fdname": "held"}, fd=write_end)
                reply = client.call("dump-guest-memory", {"paging": False, "protocol": "fd:held",
                                                          "format": "kdump-zlib"})
                tally.add(f"undrained kdump: {outcome(reply)}")
            else:
                added = client.call("add-fd", {}, fd=read_end)
                if "error" in added:
                    tally.add(f"add-fd: {outcome(added)}")
                    time.sleep(1)
                    continue
                reply = client.call("xen-load-devices-state",
                                    {"filename": f"/dev/fdset/{added['return']['fdset-id']}"})
                tally.add(f"unwritten xen-load: {outcome(reply)}")
                client.call("remove-fd", {"fdset-id": added["return"]["fdset-id"]})
        except (OSError, ValueError) as error:
            tally.add(f"pipe holder: {type(error).__name__}")
            time.sleep(1)
        finally:
            if client:
                client.close()
            os.close(read_end)
            os.close(write_end)


async def control_extremes(control_path, deadline, tally):
    """On the control socket: VMs asked with sizes and counts past every
    range; each must be refused with an error, none created."""
    requests = [
        {"memory": "8388608T"}, {"memory": "18446744073709551615"},
        {"smp": {"cpus": 1, "sockets": 2**32, "cores": 2**32, "threads": 4}},
        {"smp": {"cpus": 1, "maxcpus": 2_000_000_000}},
        {"launch": ["/bin/true"]}, {"upstream": "/tmp/x.sock"},
    ]
    conn = await Connection.open(control_path)
    try:
        n = 0
        while time.monotonic() < deadline:
            for config in requests:
                n += 1
                conn.writer.write(json.dumps({"execute": "vm-create", "arguments": {
                    "name": f"hostile{n}", "template": "pc", "config": config}}).encode())
                reply = await conn.read()
                tally.add(f"vm-create {outcome(reply)}")
            await asyncio.sleep(0.1)
    finally:
        conn.close()


#: The VM actors, by name (each gets a VM of its own).
ACTORS = {
    "extremes": integer_extremes,
    "large": large_messages,
    "never-reads": never_reads,
    "half-closes": half_closes,
    "idle": idle_connections,
    "fds": passes_descriptors,
    "pipes": holds_pipes,
}
