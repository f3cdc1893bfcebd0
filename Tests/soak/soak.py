#!/usr/bin/env python3
"""Bounded soak: 200 clients on 50 VMs of the built binary send random valid
and invalid commands, hot-plug devices (device_add/del, netdev_add/del,
chardev-add/remove, blockdev-add/del) and connect/disconnect, for
--seconds (60 by default, $SOAK_SECONDS or the flag for longer).

With `--hostile` (issue 16), at the same time and in the same fleet: the
hostile clients of hostile.py, each on a VM of its own and the control
socket, and PROBES probes (probes.py) on VMs of their own whose
`query-status` round trips are the figure of what every other client
noticed; `--vms N` fills the fleet up to N VMs.

At the end: the process is alive, every reply matched its request's id (in
order, per connection), no probe lost a reply, fds are back at their
baseline, RSS is within its bound, and it prints the end-of-run figures
(timings are figures, never a failure). Exit 0 only if all hold.

    python3 Tests/soak/soak.py [--seconds N] [--binary .build/debug/qmpfleet]
    python3 Tests/soak/soak.py --hostile --vms 1000
"""
import argparse
import asyncio
import collections
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "protocol"))
import conftest  # noqa: E402  (the fleet launcher the protocol tests use)
from process_usage import fd_count, rss_kb, settle  # noqa: E402
import hostile  # noqa: E402
from probes import Probes  # noqa: E402

VMS = 50
CLIENTS = 200
#: RSS the fleet may reach during the soak (50 VMs with block/net/chardev
#: start at ~35 MB in a debug build; hot-plugged objects are all removed
#: again or bounded by what a client can add before it reconnects).
RSS_BOUND_KB = 256 * 1024
#: What each VM past the soak's 50 may add to the bound (a pc VM with
#: block, net and chardev is about 150 KB in a debug build).
RSS_PER_EXTRA_VM_KB = 1024
#: Probes of the `--hostile` run, each on a VM of its own.
PROBES = 10
#: The VMs the hostile clients attack: every plugin whose commands they send.
HOSTILE_TEMPLATE = dict(conftest.PC_TEMPLATE, plugins={
    "chardev": {"serial": []}, "display": {"device": "video0", "vnc": {"password": True}},
    "block": {"drives": []}, "migration": {}, "trace": {}, "balloon": {}, "dump": {}})
#: A reply slower than this is a failure (the machine is shared; 1 ms typical).
REPLY_TIMEOUT_SECONDS = 10.0
TEMPLATE = dict(conftest.PC_TEMPLATE, plugins={
    "block": {"drives": [{"id": "drive0", "device": "disk0", "interface": "virtio", "file": "/tmp/soak.qcow2",
                          "format": "qcow2", "size": "1G"}]},
    "net": {"netdevs": [{"id": "net0", "type": "user"}],
            "nics": [{"id": "nic0", "model": "virtio-net-pci", "netdev": "net0"}]},
    "chardev": {},
})

#: Requests that must succeed or fail with a QMP error, never anything else.
VALID = [
    ("query-status", None), ("query-block", None), ("query-chardev", None), ("query-version", None),
    ("query-name", None), ("query-pci", None), ("stop", None), ("cont", None), ("query-netdev" , None),
    ("query-named-block-nodes", None), ("system_reset", None),
]
INVALID = [
    ("no-such-command", None), ("query-status", {"bogus": 1}), ("device_add", {}),
    ("netdev_add", {"type": "nope", "id": "x"}), ("blockdev-del", {"node-name": "never-added"}),
    ("chardev-remove", {"id": 7}), ("device_del", {"id": "../x"}), ("stop", {"x": [1, {"y": None}]}),
]


class Stats:
    def __init__(self):
        self.requests = 0
        self.replies = collections.Counter()      # "return" or error class
        self.commands = collections.Counter()
        self.outcomes = collections.Counter()     # (command, "return" or error class)
        self.mismatches = []
        self.connects = 0
        self.malformed = 0
        self.latencies = []


class Client:
    def __init__(self, number, path, stats, rng):
        self.number, self.path, self.stats, self.rng = number, path, stats, rng
        self.seq = 0

    async def open(self):
        self.reader, self.writer = await asyncio.open_unix_connection(self.path, limit=1 << 24)
        self.stats.connects += 1
        await self.read()                                   # greeting
        await self.call("qmp_capabilities")

    async def close(self):
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except OSError:
            pass

    async def read(self):
        while True:
            line = await asyncio.wait_for(self.reader.readline(), REPLY_TIMEOUT_SECONDS)
            if not line:
                raise ConnectionError("server closed the connection")
            message = json.loads(line)
            if "event" not in message:
                return message

    async def pipeline(self, requests):
        """Sends requests at once; replies must come back in order with the same ids."""
        ids = []
        data = b""
        for command, arguments in requests:
            self.seq += 1
            rid = f"c{self.number}-{self.seq}"
            ids.append(rid)
            message = {"execute": command, "id": rid}
            if arguments is not None:
                message["arguments"] = arguments
            data += json.dumps(message).encode()
            self.stats.commands[command] += 1
        self.stats.requests += len(ids)
        start = time.monotonic()
        self.writer.write(data)
        replies = []
        for rid, (command, _) in zip(ids, requests):
            reply = await self.read()
            if reply.get("id") != rid:
                self.stats.mismatches.append((rid, reply))
            kind = "return" if "return" in reply else reply.get("error", {}).get("class", "?")
            self.stats.replies[kind] += 1
            self.stats.outcomes[(command, kind)] += 1
            replies.append(reply)
        self.stats.latencies.append((time.monotonic() - start) / len(ids))
        return replies

    async def call(self, command, arguments=None):
        return (await self.pipeline([(command, arguments)]))[0]

    async def hotplug(self):
        tag = f"{self.number}x{self.seq}"
        kind = self.rng.randrange(4)
        if kind == 0:
            await self.pipeline([("netdev_add", {"type": "user", "id": f"n{tag}"}),
                                 ("device_add", {"driver": "e1000", "id": f"d{tag}", "netdev": f"n{tag}"}),
                                 ("device_del", {"id": f"d{tag}"})])
            await self.call("netdev_del", {"id": f"n{tag}"})
        elif kind == 1:
            await self.pipeline([("chardev-add", {"id": f"ch{tag}", "backend": {"type": "null", "data": {}}}),
                                 ("chardev-remove", {"id": f"ch{tag}"})])
        elif kind == 2:
            await self.pipeline([("blockdev-add", {"driver": "null-co", "node-name": f"b{tag}", "size": 1 << 20}),
                                 ("blockdev-del", {"node-name": f"b{tag}"})])
        else:
            await self.pipeline([("netdev_add", {"type": "user", "id": f"n{tag}"}),
                                 ("netdev_del", {"id": f"n{tag}"})])

    async def malformed(self):
        """A separate connection that sends garbage (and gets id-less errors), then goes."""
        reader, writer = await asyncio.open_unix_connection(self.path)
        writer.write(self.rng.choice([b'{"execute": }', b"\xff\xfe{", b'{"execute": "qmp_capabilities"}[[[', b'{"a"']))
        await writer.drain()
        writer.close()
        self.stats.malformed += 1


async def run_client(number, path, stats, deadline, seed):
    rng = random.Random(seed)
    client = Client(number, path, stats, rng)
    await client.open()
    while time.monotonic() < deadline:
        roll = rng.random()
        if roll < 0.45:
            await client.pipeline([rng.choice(VALID) for _ in range(rng.randint(1, 4))])
        elif roll < 0.70:
            await client.call(*rng.choice(INVALID))
        elif roll < 0.90:
            await client.hotplug()
        elif roll < 0.95:
            await client.close()
            await client.open()
        else:
            await client.malformed()
        await asyncio.sleep(rng.random() * 0.02)
    await client.close()


class Run:
    """What one soak measured besides the clients' own Stats."""

    def __init__(self):
        self.tally = hostile.Tally()
        self.probe_samples, self.probe_failures = [], []
        self.rss_samples = []   # (seconds into the run, KB)


async def soak(fleet, seconds, seed, hostile_run, actors=(), clients=CLIENTS):
    pid = fleet.process.pid
    stats, run = Stats(), Run()
    fds0, rss0 = fd_count(pid), rss_kb(pid)
    deadline = time.monotonic() + seconds
    peak = [rss0]
    probes = Probes([fleet.vm_socket(f"probe{n}") for n in range(PROBES)], seconds) if hostile_run else None

    async def watch():
        while time.monotonic() < deadline:
            rss = rss_kb(pid)
            peak[0] = max(peak[0], rss)
            run.rss_samples.append((time.monotonic() - started, rss))
            await asyncio.sleep(0.5)

    started = time.monotonic()
    tasks = [run_client(i, fleet.vm_socket(f"vm{i % VMS}"), stats, deadline, seed * 1000 + i) for i in range(clients)]
    if hostile_run:
        probes.start()
        tasks += [actor(fleet.vm_socket(f"hostile-{name}"), deadline, run.tally)
                  for name, actor in hostile.ACTORS.items() if name in actors]
        if "control" in actors:
            tasks.append(hostile.control_extremes(fleet.control, deadline, run.tally))
    results = await asyncio.gather(watch(), *tasks, return_exceptions=True)
    elapsed = time.monotonic() - started
    failures = [r for r in results if isinstance(r, BaseException)]
    if probes:
        run.probe_samples, run.probe_failures = await asyncio.to_thread(probes.result, 60)
    # Let the server close what the clients closed (every client is done;
    # connections that never negotiated close at `negotiation-timeout-ms`).
    fds1 = settle(pid, fds0, timeout=40 if hostile_run else 10)
    return stats, run, failures, elapsed, fds0, fds1, rss0, peak[0], rss_kb(pid)


def fleet_vms(total, hostile_run):
    """The soak's 50 VMs, then the probes' and the hostile clients' VMs, then
    idle ones up to `total`."""
    vms = [{"name": "vm{n}", "template": "pc", "count": VMS}]
    used = VMS
    if hostile_run:
        vms.append({"name": "probe{n}", "template": "plain", "count": PROBES})
        vms += [{"name": f"hostile-{name}", "template": "hostile"} for name in hostile.ACTORS]
        used += PROBES + len(hostile.ACTORS)
    if total > used:
        vms.append({"name": "idle{n}", "template": "pc", "count": total - used})
    return vms


def percentile(sorted_samples, p):
    return sorted_samples[min(len(sorted_samples) - 1, int(len(sorted_samples) * p))] * 1000 if sorted_samples else 0.0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("SOAK_SECONDS", 60)))
    parser.add_argument("--binary", default=os.environ.get("QMPFLEET_BIN") or conftest.fleet_binary())
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--vms", type=int, default=VMS, help="VMs in the fleet (at least the soak's 50)")
    parser.add_argument("--hostile", action="store_true", help="hostile clients and probes at the same time")
    parser.add_argument("--actors", default=",".join(list(hostile.ACTORS) + ["control"]),
                        help="which hostile clients (comma-separated; default all)")
    parser.add_argument("--clients", type=int, default=CLIENTS, help="the soak's own clients (0: probes and hostile only)")
    parser.add_argument("--clients-written-by-vm-loop", type=int, default=None, metavar="N",
                        help="the fleet's limit of that name (0: every second client of every VM, hostile ones "
                             "too, has its writes made by the other loop: CrossLoopTransport under the soak)")
    args = parser.parse_args()
    if not args.binary or not os.access(args.binary, os.X_OK):
        print(f"soak: no qmpfleet binary ({args.binary})", file=sys.stderr)
        return 2
    total = max(args.vms, VMS)
    rss_bound = RSS_BOUND_KB + RSS_PER_EXTRA_VM_KB * (total - VMS)
    templates = {"pc": TEMPLATE, "plain": conftest.PC_TEMPLATE, "hostile": HOSTILE_TEMPLATE}
    launched = time.monotonic()
    vms = fleet_vms(total, args.hostile)
    limit = args.clients_written_by_vm_loop
    fleet = conftest.FleetProcess.on_config(
        args.binary, conftest.vm_names(vms),
        lambda socket_dir: conftest.fleet_yaml(socket_dir, templates, vms, conftest.FLEET_QEMU_VERSION)
        + (f"limits: {{clients-written-by-vm-loop: {limit}}}\n" if limit is not None else ""),
        extra_args=["--loops", "2"] if limit is not None else [])
    ready = time.monotonic() - launched
    try:
        stats, run, failures, elapsed, fds0, fds1, rss0, peak, rss1 = asyncio.run(
            soak(fleet, args.seconds, args.seed, args.hostile, args.actors.split(","), args.clients))
        alive = fleet.process.poll() is None
        code, left = fleet.terminate()
    finally:
        fleet.cleanup()
    lat = sorted(stats.latencies) or [0]
    pct = lambda p: percentile(lat, p)  # noqa: E731
    replies = sum(stats.replies.values())
    print(f"soak: {args.clients} clients on {VMS} VMs of {total} for {elapsed:.1f} s (seed {args.seed}); "
          f"fleet ready in {ready:.2f} s")
    print(f"  requests {stats.requests}, replies {replies} ({replies / elapsed:.0f}/s), "
          f"id mismatches {len(stats.mismatches)}, connects {stats.connects}, malformed connections {stats.malformed}")
    print(f"  replies by kind: {dict(stats.replies.most_common())}")
    hotplug = ("netdev_add", "device_add", "device_del", "netdev_del", "chardev-add", "chardev-remove",
               "blockdev-add", "blockdev-del")
    print("  hot-plug: " + ", ".join(f"{c} {stats.outcomes[(c, 'return')]} ok/"
                                     f"{sum(n for (k, _), n in stats.outcomes.items() if k == c)}" for c in hotplug))
    print(f"  latency per request ms: p50 {pct(0.5):.2f}, p99 {pct(0.99):.2f}, max {lat[-1] * 1000:.2f}")
    if args.hostile:
        probe = sorted(run.probe_samples)
        print(f"  probes: {PROBES} clients on VMs of their own, {len(probe)} query-status round trips, "
              f"ms p50 {percentile(probe, 0.5):.2f}, p99 {percentile(probe, 0.99):.2f}, "
              f"p99.9 {percentile(probe, 0.999):.2f}, max {percentile(probe, 1.0):.2f}")
        print(f"  hostile clients: {run.tally}")
    third = [kb for t, kb in run.rss_samples if t >= elapsed / 3]
    growth = f", from a third of the run {third[0]} KB to its end {rss1} KB" if third else ""
    print(f"  fds {fds0} -> {fds1}; RSS KB start {rss0}, peak {peak}, end {rss1} (bound {rss_bound}){growth}")
    print(f"  process alive at end: {alive}; SIGTERM exit {code}, socket files left {len(left)}")
    problems = []
    if failures:
        problems.append(f"{len(failures)} clients failed, first: {failures[0]!r}")
    if stats.mismatches:
        problems.append(f"first id mismatch: {stats.mismatches[0]}")
    if replies != stats.requests:
        problems.append(f"{stats.requests - replies} requests without a reply")
    if not alive or code != 0 or left:
        problems.append("the fleet did not survive or did not shut down cleanly")
    if fds1 > fds0:
        problems.append(f"fd growth: {fds0} -> {fds1}")
    if peak > rss_bound:
        problems.append(f"RSS {peak} KB over {rss_bound} KB")
    if run.probe_failures:
        problems.append(f"{len(run.probe_failures)} probes failed, first: {run.probe_failures[0]}")
    if run.tally.counts.get("never-reader kept"):
        problems.append("a client that never reads was kept past session-output-stall-ms")
    if args.hostile and not run.probe_samples:
        problems.append("the probes measured nothing")
    for p in problems:
        print(f"soak: FAILED: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
