"""What qmp-shell users read of the QOM tree, against real QEMU 7.2: the
machine's properties and their values, the order in which `qom-list` gives
a container's children (QEMU's property hash table, so it depends on every
add and delete), `qom-list-types` in QEMU's own order, and a netdev bridge
the helper refuses.

Each test sends the same requests to a simulated pc VM and to
`qemu-system-x86_64 -machine pc -nodefaults` started with the same memory
and CPUs, and compares the whole replies.
"""
import shutil

import pytest

from conftest import FleetProcess, QemuProcess, QEMU_PROGRAM, missing, required_fleet_binary
from qmp_raw import RawQMP

#: Plugins the comparisons need: iothread objects (block), NICs (net).
TEMPLATE = {
    "machine": "pc-i440fx-7.2",
    "start-paused": True,
    "smp": {"cpus": 1, "sockets": 1, "cores": 4, "threads": 1, "maxcpus": 4},
    "memory": {"size": "1G", "slots": 4, "maxmem": "4G"},
    "plugins": {"block": {}, "net": {}},
}
QEMU_ARGS = ["-m", "1G,slots=4,maxmem=4G", "-smp", "1,sockets=1,cores=4,threads=1,maxcpus=4"]
PLAIN = dict(TEMPLATE, smp={"cpus": 1, "sockets": 1, "cores": 1, "threads": 1, "maxcpus": 1}, memory={"size": "128M"})


@pytest.fixture
def pair():
    """(QEMU's client, the fleet's client), factory of both sides."""
    if shutil.which(QEMU_PROGRAM) is None:
        missing(f"{QEMU_PROGRAM} is not installed")
    binary = required_fleet_binary()
    started = []

    def start(template=TEMPLATE, qemu_args=QEMU_ARGS):
        qemu = QemuProcess("pc", paused=True, extra=qemu_args)
        started.append(qemu)
        fleet = FleetProcess(binary, {"pc": template}, [{"name": "vm0", "template": "pc"}])
        started.append(fleet)
        clients = RawQMP(qemu.socket), RawQMP(fleet.vm_socket("vm0"))
        for client in clients:
            client.negotiate()
        return clients

    yield start
    for process in started:
        process.close()


def both(clients, command, arguments=None):
    return [client.execute(command, arguments) for client in clients]


def machine_property_values(client):
    listed = client.execute("qom-list", {"path": "/machine"})["return"]
    values = {}
    for prop in listed:
        reply = client.execute("qom-get", {"path": "/machine", "property": prop["name"]})
        if prop["name"] == "rtc-time":
            # The guest's clock: read a moment apart on each side.
            reply = {"return": sorted(reply["return"])}
        values[prop["name"]] = reply
    return listed, values


@pytest.mark.parametrize("template, qemu_args", [(TEMPLATE, QEMU_ARGS), (PLAIN, ["-m", "128M"])],
                         ids=["hotplug-memory", "plain"])
def test_machine_properties_are_qemus(pair, template, qemu_args):
    qemu, fleet = pair(template, qemu_args)
    want_list, want_values = machine_property_values(qemu)
    have_list, have_values = machine_property_values(fleet)
    assert have_list == want_list
    differ = {name: (want_values[name], have_values.get(name)) for name in want_values if want_values[name] != have_values.get(name)}
    assert not differ, differ
    want, have = both((qemu, fleet), "qom-get", {"path": "/machine", "property": "no-such"})
    assert have == want


def test_machine_properties_follow_the_vm_not_the_recording(pair):
    """memory and smp are the VM's own: another size reads back as that size."""
    template = dict(TEMPLATE, memory={"size": "2G", "slots": 2, "maxmem": "8G"},
                    smp={"cpus": 2, "sockets": 2, "cores": 1, "threads": 1, "maxcpus": 2})
    qemu, fleet = pair(template, ["-m", "2G,slots=2,maxmem=8G", "-smp", "2,sockets=2,cores=1,threads=1,maxcpus=2"])
    for name in ("memory", "smp", "device-memory-region-size", "memory-backend"):
        want, have = both((qemu, fleet), "qom-get", {"path": "/machine", "property": name})
        assert have == want, name
    assert fleet.execute("qom-get", {"path": "/machine", "property": "memory"})["return"]["size"] == 2 << 30


def object_steps():
    """Adds and deletes of iothreads past two resizes of the table, and ids
    deleted and added again (tombstones reused)."""
    steps = [("object-add", {"qom-type": "iothread", "id": f"io{n}"}) for n in range(14)]
    steps += [("object-del", {"id": f"io{n}"}) for n in (3, 0, 7, 12, 1, 5, 9, 10, 2)]
    steps += [("object-add", {"qom-type": "iothread", "id": name}) for name in ("io7", "zz", "a.b", "io0")]
    steps += [("object-del", {"id": f"io{n}"}) for n in (4, 6, 8, 11, 13)]
    return steps


def test_objects_are_listed_in_qemus_order_through_adds_and_deletes(pair):
    qemu, fleet = pair()
    for command, arguments in object_steps():
        want, have = both((qemu, fleet), command, arguments)
        assert have == want, (command, arguments)
        want, have = both((qemu, fleet), "qom-list", {"path": "/objects"})
        assert have == want, f"after {command} {arguments}"


def test_peripherals_are_listed_in_qemus_order(pair):
    qemu, fleet = pair()
    for n in range(12):
        driver = "e1000" if n % 2 else "virtio-net-pci"
        want, have = both((qemu, fleet), "device_add", {"driver": driver, "id": f"nic{n}"})
        assert have == want
        want, have = both((qemu, fleet), "qom-list", {"path": "/machine/peripheral"})
        assert have == want, f"after nic{n}"
    both((qemu, fleet), "device_add", {"driver": "e1000"})
    both((qemu, fleet), "device_add", {"driver": "e1000"})
    want, have = both((qemu, fleet), "qom-list", {"path": "/machine/peripheral-anon"})
    assert have == want


@pytest.mark.parametrize("arguments", [{}, {"abstract": True}, {"implements": "virtio-device"},
                                       {"implements": "memory-backend"}, {"implements": "device", "abstract": True}],
                         ids=["concrete", "abstract", "virtio", "memory-backend", "devices"])
def test_types_are_listed_in_qemus_order(pair, arguments):
    """Every plugin of a pc VM loaded, so no simulated device is left out."""
    plugins = {name: {} for name in ("block", "net", "chardev", "memory", "cpu-hotplug", "tpm", "rocker", "dump",
                                     "display", "trace", "migration", "balloon", "replay", "colo")}
    qemu, fleet = pair(dict(TEMPLATE, plugins=dict(plugins, display={"enabled": False})))
    want, have = both((qemu, fleet), "qom-list-types", arguments)
    assert [t["name"] for t in have["return"]] == [t["name"] for t in want["return"]]
    assert have == want


def test_bridge_netdev_is_refused_as_qemu_refuses_it(pair):
    """qemu-bridge-helper allows only the bridges /etc/qemu/bridge.conf names
    (none by default): QEMU 7.2 answers that the helper failed."""
    qemu, fleet = pair()
    for arguments in ({"type": "bridge", "id": "br0"}, {"type": "bridge", "id": "br1", "br": "virbr0"}):
        want, have = both((qemu, fleet), "netdev_add", arguments)
        assert want == {"error": {"class": "GenericError", "desc": "bridge helper failed"}}
        assert have == want
