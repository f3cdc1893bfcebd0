"""The README's five-line example, as written there."""
import pytest
from qemu.qmp import ExecuteError
from qmpfleet import SyncQMPClient        # qemu.qmp's QMPClient, blocking

def test_resize_fails_once(qmpfleet, qmp_vm):   # one fleet per session, a fresh VM per test
    qmpfleet.inject_fault("block_resize", vm=qmp_vm.name, times=1, desc="Could not resize")
    with SyncQMPClient(qmp_vm.socket) as vm:
        with pytest.raises(ExecuteError, match="Could not resize"):
            vm.execute("block_resize", {"device": "drive0", "size": 1 << 35})
        assert vm.execute("block_resize", {"device": "drive0", "size": 1 << 35}) == {}
