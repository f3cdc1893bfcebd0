"""Migration parameters, capabilities, xen and COLO through qemu.qmp: the
built qmpfleet against QEMU 7.2, plus the seed's cache-size commands that
QEMU 7.2 no longer has."""
from conftest import QemuProcess
from test_netchar_support import Fleet, assert_same_replies, connect, replies_of, run

SEQUENCE = [
    ("query-migrate", None),
    ("query-migrate-capabilities", None),
    ("query-migrate-parameters", None),
    ("migrate-set-parameters", {"xbzrle-cache-size": 536870912}),
    ("migrate-set-parameters", {"xbzrle-cache-size": 1000}),
    ("migrate-set-parameters", {"compress-level": 10}),
    ("migrate-set-parameters", {"downtime-limit": 2000001}),
    ("migrate-set-parameters", {"max-bandwidth": -1, "tls-creds": None, "multifd-zlib-level": 5}),
    ("query-migrate-parameters", None),
    ("migrate-set-capabilities", {"capabilities": [{"capability": "xbzrle", "state": True}]}),
    ("migrate-set-capabilities", {"capabilities": [{"capability": "nosuch", "state": True}]}),
    ("query-migrate-capabilities", None),
    ("xen-load-devices-state", {"filename": "/tmp/no-such-resume"}),
    ("xen-set-global-dirty-log", {"enable": True}),
    ("x-colo-lost-heartbeat", None),
]


def test_matches_qemu():
    expected = replies_of(QemuProcess("pc", paused=True, extra=["-m", "1G"]), SEQUENCE)
    got = replies_of(Fleet("{name: vm0, machine: pc, memory: 1G, plugins: {migration: {}}}"), SEQUENCE)
    assert_same_replies(SEQUENCE, expected, got)


def test_seed_cache_size_commands():
    fleet = Fleet("{name: vm0, machine: pc, memory: 1G, plugins: {migration: {}}}")
    try:
        async def go():
            client = await connect(fleet.socket)
            assert await client.execute("migrate-set-cache-size", {"value": 536870912}) == {}
            assert await client.execute("query-migrate-cache-size") == 536870912
            params = await client.execute("query-migrate-parameters")
            assert params["xbzrle-cache-size"] == 536870912
            await client.disconnect()
        run(go())
    finally:
        fleet.close()
