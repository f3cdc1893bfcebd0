"""Block layer workflows through a real client (qemu.qmp) against the built
binary, and the same workflows against QEMU 7.2 with real image files made
by qemu-img in a temp dir: the replies must have the same shapes (members
and types, errors by class and text) and the same events in the same order.

QEMU 7.2 drains jobs around every QMP command, which shows up as extra
JOB_STATUS_CHANGE paused/running pairs; the comparison leaves those out."""
import asyncio
import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import QemuProcess
from test_netchar_support import Fleet, connect, guest_action, raw, run

QEMU = shutil.which("qemu-system-x86_64")
QEMU_IMG = shutil.which("qemu-img")


class Images:
    """A temp dir with the images both sides use: a 1 GiB qcow2 with 16 MiB
    of data (drive0), a 64 MiB raw disk (drive1) and two 4 MiB ISOs."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="blk-", dir="/tmp")
        self.d0 = f"{self.dir}/d0.qcow2"
        self.d1 = f"{self.dir}/d1.raw"
        self.cd = f"{self.dir}/cd.iso"
        self.cd2 = f"{self.dir}/cd2.iso"
        if QEMU_IMG:
            subprocess.run([QEMU_IMG, "create", "-q", "-f", "qcow2", self.d0, "1G"], check=True)
            subprocess.run(["qemu-io", "-c", "write 0 16M", self.d0], check=True, stdout=subprocess.DEVNULL)
            subprocess.run([QEMU_IMG, "create", "-q", "-f", "raw", self.d1, "64M"], check=True)
        for iso in (self.cd, self.cd2):
            with open(iso, "wb") as f:
                f.truncate(4 << 20)

    def fleet_vm(self):
        return ("{name: vm0, machine: pc, start-paused: true, plugins: {block: {job-rate: 4G, guest-delay-ms: 50, drives: ["
                f"{{id: drive0, device: virtio0, file: {self.d0}, format: qcow2, size: 1G, allocated: 16M, interface: virtio}}, "
                f"{{id: cd0, device: cdrom0, file: {self.cd}, media: cdrom, interface: ide, size: 4M}}, "
                f"{{id: drive1, device: disk1, file: {self.d1}, format: raw, size: 64M, interface: ide}}]}}}}}}")

    def qemu_args(self):
        return ["-drive", f"file={self.d0},format=qcow2,if=none,id=drive0", "-device", "virtio-blk-pci,drive=drive0,id=virtio0",
                "-drive", f"file={self.cd},format=raw,if=none,id=cd0,media=cdrom,readonly=on", "-device", "ide-cd,drive=cd0,id=cdrom0",
                "-drive", f"file={self.d1},format=raw,if=none,id=drive1", "-device", "ide-hd,drive=drive1,id=disk1"]

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def shape(value):
    """Members and types, not values (node names, sizes and dates differ)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value]
    return type(value).__name__


def reply_shape(reply):
    if "error" in reply:
        return ("error", reply["error"]["class"], reply["error"]["desc"])
    return ("return", shape(reply["return"]))


class Recorder:
    """Runs a workflow on one connection, recording reply shapes and events."""

    def __init__(self, qmp):
        self.qmp = qmp
        self.replies = []
        self.events = []

    async def __call__(self, command, arguments=None):
        reply = await raw(self.qmp, command, arguments)
        self.replies.append((command, reply_shape(reply)))
        await self.drain()
        return reply

    async def drain(self):
        while not self.qmp.events.empty():
            self.record(await self.qmp.events.get())

    def record(self, event):
        name = event["event"]
        if name == "JOB_STATUS_CHANGE":
            name += ":" + event["data"]["status"]
        self.events.append(name)

    async def until(self, name, timeout=20.0):
        """Waits for event `name`, recording everything up to it."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            if any(e == name for e in self.events):
                return
            remaining = deadline - asyncio.get_running_loop().time()
            assert remaining > 0, f"no {name} within {timeout}s: {self.events}"
            self.record(await asyncio.wait_for(self.qmp.events.get(), remaining))

    def normalised_events(self):
        """Without QEMU's drain pauses: a paused/running pair around commands
        for a running job, a standby/ready pair for a ready one."""
        resumed_by = {":paused": ":running", ":standby": ":ready"}
        out, resume = [], None
        for e in self.events:
            pause = next((p for p in resumed_by if e.endswith(p)), None)
            if pause:
                resume = resumed_by[pause]
                continue
            if resume and e.endswith(resume):
                resume = None
                continue
            out.append(e)
        return out


async def backup_workflow(q, images):
    await q("block-dirty-bitmap-add", {"node": "drive0", "name": "bm0", "granularity": 65536})
    await q("block-dirty-bitmap-add", {"node": "drive0", "name": "bm0"})
    await q("drive-backup", {"device": "drive0", "job-id": "full0", "sync": "full", "target": f"{images.dir}/full.qcow2", "format": "qcow2"})
    await q.until("BLOCK_JOB_COMPLETED")
    await q("query-block-jobs")
    await q("drive-backup", {"device": "drive0", "job-id": "inc0", "sync": "incremental", "target": f"{images.dir}/inc.qcow2", "format": "qcow2"})
    await q("drive-backup", {"device": "drive0", "job-id": "inc0", "sync": "incremental", "bitmap": "zz", "target": f"{images.dir}/inc.qcow2", "format": "qcow2"})
    await q("drive-backup", {"device": "drive0", "job-id": "inc0", "sync": "incremental", "bitmap": "bm0", "target": f"{images.dir}/inc.qcow2", "format": "qcow2"})
    await q.until("JOB_STATUS_CHANGE:null")
    await q("query-block")
    await q("block-dirty-bitmap-remove", {"node": "drive0", "name": "bm0"})


async def snapshot_commit_workflow(q, images):
    await q("blockdev-snapshot-sync", {"device": "drive0", "snapshot-file": f"{images.dir}/snap1.qcow2", "format": "qcow2", "snapshot-node-name": "sn1"})
    await q("blockdev-snapshot-sync", {"device": "drive0", "snapshot-file": f"{images.dir}/snap2.qcow2", "format": "qcow2", "snapshot-node-name": "sn1"})
    await q("query-block")
    await q("block-commit", {"device": "drive0", "job-id": "c1"})
    await q.until("BLOCK_JOB_READY")
    await q("query-block-jobs")
    await q("block-job-complete", {"device": "c1"})
    await q.until("JOB_STATUS_CHANGE:null")
    await q("query-block")
    await q("block-commit", {"device": "drive0"})


async def mirror_workflow(q, images):
    await q("drive-mirror", {"device": "drive0", "job-id": "m1", "sync": "full", "target": f"{images.dir}/m1.qcow2", "format": "qcow2"})
    await q.until("BLOCK_JOB_READY")
    await q("query-block-jobs")
    await q("drive-backup", {"device": "drive0", "sync": "full", "target": f"{images.dir}/x.qcow2", "format": "qcow2"})
    await q("block-job-complete", {"device": "m1"})
    await q.until("JOB_STATUS_CHANGE:null")
    await q("query-block-jobs")
    await q("query-block")
    await q("block-job-complete", {"device": "m1"})


async def cdrom_workflow(q, images):
    await q("eject", {"device": "drive0"})
    await q("eject", {"id": "cdrom0"})
    await q("blockdev-change-medium", {"id": "cdrom0", "filename": images.cd2, "format": "raw"})
    await q("query-block")
    await q("blockdev-change-medium", {"id": "cdrom0", "filename": images.cd2, "format": "qcow2"})
    await q("blockdev-open-tray", {"id": "cdrom0"})
    await q("blockdev-remove-medium", {"id": "cdrom0"})
    await q("blockdev-add", {"driver": "raw", "node-name": "iso1", "read-only": True, "file": {"driver": "file", "filename": images.cd}})
    await q("blockdev-insert-medium", {"id": "cdrom0", "node-name": "iso1"})
    await q("blockdev-close-tray", {"id": "cdrom0"})
    await q("blockdev-del", {"node-name": "iso1"})
    await q("query-block")


WORKFLOWS = [backup_workflow, snapshot_commit_workflow, mirror_workflow, cdrom_workflow]


async def record(path, workflow, images):
    qmp = await connect(path)
    q = Recorder(qmp)
    await workflow(q, images)
    await asyncio.sleep(0.2)
    await q.drain()
    await qmp.disconnect()
    return q


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[w.__name__ for w in WORKFLOWS])
def test_workflow_on_fleet(workflow):
    images = Images()
    fleet = Fleet(images.fleet_vm())
    try:
        q = run(record(fleet.socket, workflow, images))
        assert all(shape for _, shape in q.replies)
        assert "BLOCK_JOB_CANCELLED" not in q.events
    finally:
        fleet.close()
        images.close()


@pytest.mark.skipif(QEMU is None or QEMU_IMG is None, reason="QEMU 7.2 not installed")
@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[w.__name__ for w in WORKFLOWS])
def test_workflow_matches_qemu(workflow):
    images = Images()
    try:
        fleet = Fleet(images.fleet_vm())
        try:
            ours = run(record(fleet.socket, workflow, images))
        finally:
            fleet.close()
        # QEMU gets fresh images: the fleet never touches the files.
        qemu = QemuProcess("pc", paused=True, extra=images.qemu_args())
        try:
            theirs = run(record(qemu.socket, workflow, images))
        finally:
            qemu.close()
    finally:
        images.close()
    for mine, real in zip(ours.replies, theirs.replies):
        assert mine == real, (mine, real)
    assert len(ours.replies) == len(theirs.replies)
    assert ours.normalised_events() == theirs.normalised_events()


def test_guest_locked_tray():
    """A guest-locked tray: eject and change need force, or the guest's
    answer to the eject request (QEMU needs a real guest OS for this)."""
    images = Images()
    fleet = Fleet(images.fleet_vm())

    async def scenario():
        qmp = await connect(fleet.socket)
        ctl = await connect(fleet.control)
        assert await guest_action(ctl, "block", "lock-tray", {"device": "cd0"}) == {"return": {}}
        blocks = (await raw(qmp, "query-block"))["return"]
        assert blocks[1]["locked"] is True
        assert await raw(qmp, "eject", {"id": "cdrom0"}) == {"error": {"class": "GenericError",
            "desc": "Device 'cdrom0' is locked and force was not specified, wait for tray to open and try again"}}
        event = await asyncio.wait_for(qmp.events.get(), 2)
        assert event["event"] == "DEVICE_TRAY_MOVED" and event["data"] == {"device": "cd0", "id": "cdrom0", "tray-open": True}
        assert await raw(qmp, "blockdev-change-medium", {"id": "cdrom0", "filename": images.cd2, "format": "raw"}) == {"return": {}}
        event = await asyncio.wait_for(qmp.events.get(), 2)
        assert event["data"]["tray-open"] is False
        assert await guest_action(ctl, "block", "lock-tray", {"device": "cd0"}) == {"return": {}}
        assert await raw(qmp, "eject", {"id": "cdrom0", "force": True}) == {"return": {}}
        blocks = (await raw(qmp, "query-block"))["return"]
        assert "inserted" not in blocks[1] and blocks[1]["tray_open"] is True
        await ctl.disconnect()
        await qmp.disconnect()

    try:
        run(scenario())
    finally:
        fleet.close()
        images.close()
