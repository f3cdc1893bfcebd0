"""screendump, send-key and input-send-event through qemu.qmp against the
built qmpfleet; the image opens as an image, the keys reach the simulated
guest, and errors are compared with QEMU 7.2 (-device VGA,id=video0)."""
import os
import shutil
import subprocess
import tempfile

from conftest import QemuProcess
from test_netchar_support import Fleet, assert_same_replies, connect, replies_of, run


def file_type(path):
    return subprocess.run(["file", "-b", path], capture_output=True, text=True, check=True).stdout


def test_screendump_is_an_image_and_keys_reach_the_guest():
    fleet = Fleet("{name: vm0, machine: pc, plugins: {display: {device: video0}}}")
    tmp = tempfile.mkdtemp(prefix="disp-", dir="/tmp")
    try:
        async def go():
            client = await connect(fleet.socket)
            assert await client.execute("screendump", {"filename": f"{tmp}/s.ppm"}) == {}
            assert await client.execute("screendump", {"filename": f"{tmp}/s.png", "format": "png"}) == {}
            keys = [{"type": "qcode", "data": "ctrl"}, {"type": "qcode", "data": "alt"}, {"type": "qcode", "data": "delete"}]
            assert await client.execute("send-key", {"keys": keys}) == {}
            await client.disconnect()
            control = await connect(fleet.control)
            import asyncio
            await asyncio.sleep(0.2)
            got = await control.execute("guest-action", {"vm": "vm0", "plugin": "display", "action": "received-input"})
            await control.disconnect()
            return got["events"]
        events = run(go())
        assert [e["data"]["key"]["data"] for e in events] == ["ctrl", "alt", "delete", "delete", "alt", "ctrl"]
        assert [e["data"]["down"] for e in events] == [True] * 3 + [False] * 3
        assert "Netpbm image data, size = 640 x 480, rawbits, pixmap" in file_type(f"{tmp}/s.ppm")
        assert "PNG image data, 640 x 480, 8-bit/color RGB" in file_type(f"{tmp}/s.png")
        subprocess.run(["python3", "-c", "import zlib,sys; d=open(sys.argv[1],'rb').read(); "
                        "i=d.index(b'IDAT'); n=int.from_bytes(d[i-4:i],'big'); "
                        "assert len(zlib.decompress(d[i+4:i+4+n])) == 480*(640*3+1)", f"{tmp}/s.png"], check=True)
    finally:
        fleet.close()
        shutil.rmtree(tmp, ignore_errors=True)


def sequence_for(tmp):
    ctrl = [{"type": "key", "data": {"down": True, "key": {"type": "qcode", "data": "ctrl"}}}]
    return [
        ("screendump", {"filename": f"{tmp}/a.ppm", "device": "nosuch"}),
        ("screendump", {"filename": f"{tmp}/a.ppm", "head": 1}),
        ("screendump", {"filename": f"{tmp}/a.ppm", "device": "video0", "head": 1}),
        ("screendump", {"filename": f"{tmp}/nodir/a.ppm"}),
        ("screendump", {"filename": f"{tmp}/a.ppm", "format": "jpeg"}),
        ("send-key", {"keys": [{"type": "qcode", "data": "nosuchkey"}]}),
        ("send-key", {"keys": [{"type": "qcode", "data": "a"}]}),
        ("input-send-event", {"events": ctrl}),
        ("input-send-event", {"device": "nosuch", "events": ctrl}),
        ("cont", None),
        ("input-send-event", {"events": ctrl}),
        ("input-send-event", {"device": "video0", "head": 2, "events": ctrl}),
        ("input-send-event", {"events": [{"type": "abs", "data": {"axis": "x", "value": 1}}]}),
        ("input-send-event", {"events": [{"type": "key", "data": {"down": True, "key": {"type": "qcode", "data": "nosuch"}}}]}),
    ]


def test_errors_match_qemu():
    tmp = tempfile.mkdtemp(prefix="dispq-", dir="/tmp")
    try:
        sequence = sequence_for(tmp)
        expected = replies_of(QemuProcess("pc", paused=True, extra=["-device", "VGA,id=video0"]), sequence)
        got = replies_of(Fleet("{name: vm0, machine: pc, start-paused: true, plugins: {display: {device: video0}}}"), sequence)
        assert_same_replies(sequence, expected, got)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_no_console_matches_qemu_without_display():
    screendump = [("screendump", {"filename": "/tmp/never.ppm"})]
    expected = replies_of(QemuProcess("pc", paused=True), screendump)
    got = replies_of(Fleet("{name: vm0, machine: pc, plugins: {display: {enabled: false}}}"), screendump)
    assert got == expected == [("error", "GenericError", "There is no console to take a screendump from")]
