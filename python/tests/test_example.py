"""The README's example: a block_resize that fails once, seen through qemu.qmp."""
import asyncio

import pytest
from qemu.qmp import ExecuteError, QMPClient


async def resize(socket):
    client = QMPClient("code-under-test")
    await client.connect(socket)
    try:
        return await client.execute("block_resize", {"device": "drive0", "size": 32 << 30})
    finally:
        await client.disconnect()


def test_block_resize_fails_once(qmpfleet, qmp_vm):
    qmpfleet.inject_fault("block_resize", vm=qmp_vm.name, times=1,
                          error_class="DeviceNotActive", desc="Could not resize: Input/output error")
    with pytest.raises(ExecuteError) as failure:
        asyncio.run(resize(qmp_vm.socket))
    assert failure.value.error_class == "DeviceNotActive"
    assert str(failure.value) == "Could not resize: Input/output error"
    assert asyncio.run(resize(qmp_vm.socket)) == {}
