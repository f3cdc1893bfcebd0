"""dump-guest-memory through qemu.qmp against the built qmpfleet: a real
file's fd passed with add-fd (SCM_RIGHTS) and dumped to /dev/fdset/N, read
back with readelf; errors and query-dump compared with QEMU 7.2."""
import asyncio
import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import QemuProcess
from test_netchar_support import Fleet, assert_same_replies, connect, raw, comparable, replies_of, run


def vm(extra=""):
    return Fleet("{name: vm0, machine: pc, memory: 128M, plugins: {dump: {%s}}}" % extra)


async def wait_completed(client, timeout=10.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        status = await client.execute("query-dump")
        if status["status"] != "active":
            return status
        await asyncio.sleep(0.02)
    raise TimeoutError("dump still active")


def test_dump_to_fdset_is_an_elf_core():
    fleet = vm()
    tmp = tempfile.mkdtemp(prefix="dumpfd-", dir="/tmp")
    path = os.path.join(tmp, "guest.core")
    try:
        async def go():
            client = await connect(fleet.socket)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            client.send_fd_scm(fd)
            os.close(fd)
            added = await client.execute("add-fd", {"opaque": "dump target"})
            assert set(added) == {"fdset-id", "fd"}
            sets = await client.execute("query-fdsets")
            assert sets[0]["fdset-id"] == added["fdset-id"]
            assert await client.execute("dump-guest-memory", {"paging": False, "protocol": f"file:/dev/fdset/{added['fdset-id']}"}) == {}
            assert await client.execute("query-dump") == {"status": "completed", "completed": 134217728, "total": 134217728}
            await client.disconnect()
        run(go())
        out = subprocess.run(["readelf", "-h", "-l", path], capture_output=True, text=True, check=True).stdout
        assert "CORE (Core file)" in out
        assert "X86-64" in out
        assert out.count("LOAD") == 1 and "NOTE" in out
        assert os.stat(path).st_blocks * 512 < 1 << 20      # sparse
    finally:
        fleet.close()
        shutil.rmtree(tmp, ignore_errors=True)


def test_detached_dump_shows_progress_then_event():
    fleet = vm("bytes-per-step: 16777216, step-ms: 20")
    tmp = tempfile.mkdtemp(prefix="dumpd-", dir="/tmp")
    path = os.path.join(tmp, "d.core")
    try:
        async def go():
            client = await connect(fleet.socket)
            assert await client.execute("dump-guest-memory", {"paging": False, "protocol": f"file:{path}", "detach": True}) == {}
            first = await client.execute("query-dump")
            assert first["status"] == "active" and first["total"] == 134217728 and first["completed"] < 134217728
            busy = await raw(client, "dump-guest-memory", {"paging": False, "protocol": f"file:{path}.2"})
            assert comparable(busy) == ("error", "GenericError", "There is a dump in process, please wait.")
            event = await asyncio.wait_for(client.events.get(), 10)
            assert event["event"] == "DUMP_COMPLETED"
            assert event["data"]["result"] == {"status": "completed", "completed": 134217728, "total": 134217728}
            await client.disconnect()
        run(go())
        assert os.stat(path).st_mode & 0o777 == 0o400
        subprocess.run(["readelf", "-l", path], capture_output=True, check=True)
    finally:
        fleet.close()
        shutil.rmtree(tmp, ignore_errors=True)


def test_fd_passed_with_a_command_that_takes_none_is_not_leaked():
    fleet = vm()
    try:
        async def go():
            client = await connect(fleet.socket)
            r, w = os.pipe()
            client.send_fd_scm(w)
            os.close(w)
            assert await client.execute("query-dump") == {"status": "none", "completed": 0, "total": 0}
            await client.disconnect()
            # The host closed the stray fd: the pipe's only writer is gone.
            os.set_blocking(r, False)
            assert os.read(r, 1) == b""
            os.close(r)
        run(go())
    finally:
        fleet.close()


def errors_sequence(tmp):
    target = f"file:{tmp}/e.core"
    return [
        ("query-dump", None),
        ("query-dump-guest-memory-capability", None),
        ("dump-guest-memory", {"paging": False, "protocol": f"{tmp}/e.core"}),
        ("dump-guest-memory", {"paging": False, "protocol": "fd:nosuch"}),
        ("dump-guest-memory", {"paging": False, "protocol": f"file:{tmp}/nodir/e.core"}),
        ("dump-guest-memory", {"paging": False, "protocol": target, "begin": 0}),
        ("dump-guest-memory", {"paging": False, "protocol": target, "length": 4096}),
        ("dump-guest-memory", {"paging": False, "protocol": target, "begin": 0, "length": 0}),
        ("dump-guest-memory", {"paging": False, "protocol": target, "format": "kdump-zlib", "begin": 0, "length": 4096}),
        ("dump-guest-memory", {"paging": False, "protocol": target, "format": "kdump-lzo"}),
        ("dump-guest-memory", {"protocol": target}),
        ("dump-skeys", {"filename": f"{tmp}/skeys"}),
        ("getfd", {"fdname": "x"}),
        ("closefd", {"fdname": "x"}),
    ]


def test_errors_match_qemu():
    tmp = tempfile.mkdtemp(prefix="dumpe-", dir="/tmp")
    try:
        sequence = errors_sequence(tmp)
        expected = replies_of(QemuProcess("pc", paused=True, extra=["-m", "128M"]), sequence)
        got = replies_of(vm(), sequence)
        assert_same_replies(sequence, expected, got)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
