"""Migration parameters, capabilities, xen and COLO through qemu.qmp: the
built qmpfleet against QEMU 7.2, plus the seed's cache-size commands that
QEMU 7.2 no longer has."""
from test_netchar_support import Fleet, connect, raw, comparable, run
from test_rocker_support import QemuWith

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


async def sequence(path):
    client = await connect(path)
    replies = [comparable(await raw(client, name, args)) for name, args in SEQUENCE]
    await client.disconnect()
    return replies


def test_matches_qemu():
    qemu = QemuWith(["-machine", "pc", "-m", "1G"])
    try:
        expected = run(sequence(qemu.socket))
    finally:
        qemu.close()
    fleet = Fleet("{name: vm0, machine: pc, memory: 1G, plugins: {migration: {}}}")
    try:
        got = run(sequence(fleet.socket))
    finally:
        fleet.close()
    for (name, args), want, have in zip(SEQUENCE, expected, got):
        assert have == want, (name, args)


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
