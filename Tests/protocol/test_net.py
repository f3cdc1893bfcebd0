"""Net plugin through a real client (qemu.qmp) against the built binary,
and the same sequence against QEMU 7.2."""
import pytest

from conftest import QemuProcess
from test_netchar_support import Fleet, assert_same_replies, connect, guest_action, raw, replies, replies_of, take_events, run

VM = "{name: vm0, machine: pc, plugins: {net: {}}}"


@pytest.fixture
def fleet():
    f = Fleet(VM)
    yield f
    f.close()


def test_rx_filter_event_once_until_queried(fleet):
    async def scenario():
        qmp = await connect(fleet.socket)
        control = await connect(fleet.control)
        assert await raw(qmp, "netdev_add", {"type": "user", "id": "n0"}) == {"return": {}}
        assert await raw(qmp, "device_add", {"driver": "virtio-net-pci", "id": "nic0", "netdev": "n0"}) == {"return": {}}
        [info] = (await raw(qmp, "query-rx-filter", {"name": "nic0"}))["return"]
        assert info["promiscuous"] is True and info["main-mac"] == "52:54:00:12:34:56"

        async def guest(action, args):
            return await guest_action(control, "net", action, args)

        assert await guest("set-promiscuous", {"nic": "nic0", "on": False}) == {"return": {}}
        assert await guest("add-multicast", {"nic": "nic0", "addresses": ["01:00:5e:00:00:fb"]}) == {"return": {}}
        events = await take_events(qmp, "NIC_RX_FILTER_CHANGED")
        assert len(events) == 1
        assert events[0]["data"] == {"name": "nic0", "path": "/machine/peripheral/nic0/virtio-backend"}

        [info] = (await raw(qmp, "query-rx-filter", {"name": "nic0"}))["return"]
        assert info["promiscuous"] is False
        assert info["multicast-table"] == ["01:00:5e:00:00:fb"]
        assert await guest("rx-filter", {"nic": "nic0", "multicast": "all"}) == {"return": {}}
        assert len(await take_events(qmp, "NIC_RX_FILTER_CHANGED")) == 1
        await qmp.disconnect()
        await control.disconnect()
    run(scenario())


SEQUENCE = [
    ("netdev_add", {"type": "user", "id": "n0"}),
    ("netdev_add", {"type": "user", "id": "n0"}),
    ("netdev_add", {"type": "user", "id": "0bad"}),
    ("netdev_add", {"type": "nic", "id": "x"}),
    ("netdev_add", {"type": "socket", "id": "x"}),
    ("netdev_add", {"type": "hubport", "id": "h0", "hubid": 0}),
    ("netdev_add", {"type": "user", "id": "n1"}),
    ("netdev_del", {"id": "nope"}),
    ("device_add", {"driver": "virtio-net-pci", "id": "nic0", "netdev": "n0", "mac": "52:54:00:aa:bb:cc"}),
    ("device_add", {"driver": "rtl8139", "id": "nic9", "netdev": "n0"}),
    ("device_add", {"driver": "rtl8139", "id": "nic9", "netdev": "nope"}),
    ("device_add", {"driver": "e1000", "id": "nic9", "netdev": "n1", "mac": "bad"}),
    ("device_add", {"driver": "e1000", "id": "nic1", "netdev": "n1"}),
    ("device_add", {"driver": "virtio-net-pci", "id": "nic2", "netdev": "h0"}),
    ("query-rx-filter", None),
    ("query-rx-filter", {"name": "nic1"}),
    ("query-rx-filter", {"name": "n0"}),
    ("query-rx-filter", {"name": "nope"}),
    ("set_link", {"name": "nic0", "up": False}),
    ("set_link", {"name": "nope", "up": False}),
    ("netdev_del", {"id": "n0"}),
    ("netdev_del", {"id": "n0"}),
    ("query-rx-filter", {"name": "nic0"}),
]


def test_replies_match_qemu(fleet):
    theirs = replies_of(QemuProcess("pc", paused=True), SEQUENCE)
    ours = run(replies(fleet.socket, SEQUENCE))
    assert_same_replies(SEQUENCE, theirs, ours)
