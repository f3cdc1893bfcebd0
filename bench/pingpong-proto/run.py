#!/usr/bin/env python3
"""Interleaved ping-pong rounds of the prototype servers (and, with --fleet, a
qmpfleet binary) with one client and with 16: each round runs every target
once, in an order that rotates every round; prints each round and then the
medians, each shape's median ratio to the blocking server (a) of the same round.

usage: run.py [--rounds 5] [--seconds 2] [--fleet PATH/qmpfleet ...] [--shapes ...]

Builds server and client here first when they are missing or older than
their source (cc; the server needs liburing's headers: apt-get install
liburing-dev). A round in which a shape's server spent more than twice its
least CPU per request is "collapsed" (on this shared 2-vCPU guest every
loop shape, never the blocking one, now and then runs 4-10x slower for a
whole round); the table gives the median of all rounds and, apart, of the
rounds that did not collapse.
"""
import argparse, os, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
SHAPES = {
    "a-block": ("block", {}),
    "b-epoll": ("epoll", {}),
    "b-epoll-peek": ("epoll-peek", {}),
    "c-uring": ("uring", {"URING_FLAGS": "coop"}),
    "c-uring-defer": ("uring", {"URING_FLAGS": "defer"}),
    "c-hybrid": ("hybrid", {"URING_FLAGS": "coop"}),
    "c-hybrid-send": ("hybrid-send", {"URING_FLAGS": "coop"}),
}

def build():
    for name, libs in (("server", ["-luring", "-lpthread"]), ("client", ["-lpthread"])):
        src, out = f"{HERE}/{name}.c", f"{HERE}/{name}"
        if not os.path.exists(out) or os.path.getmtime(out) < os.path.getmtime(src):
            subprocess.run(["cc", "-O2", "-Wall", "-o", out, src] + libs, check=True)

def main():
    build()
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=2)
    ap.add_argument("--loops", type=int, default=2)
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 16])
    ap.add_argument("--fleet", action="append", default=[], help="a qmpfleet binary (repeatable)")
    ap.add_argument("--shapes", nargs="+", default=list(SHAPES))
    ap.add_argument("--work-ns", type=int, nargs="+", default=[], help="also run each shape with WORK_NS=N")
    ap.add_argument("--work-after", action="store_true", help="also run each WORK_NS after the reply's send (epoll and block only)")
    args = ap.parse_args()
    root = tempfile.mkdtemp(prefix="pp-", dir="/tmp")
    procs, targets = [], []
    for name in args.shapes:
        variants = [(0, False)] + [(w, False) for w in args.work_ns] + ([(w, True) for w in args.work_ns] if args.work_after else [])
        for work, after in variants:
            shape, env = SHAPES[name]
            label = name if not work else f"{name}+{work}ns" + (" after" if after else "")
            path = f"{root}/{label.replace(' ', '-')}.sock"
            p = subprocess.Popen([f"{HERE}/server", shape, path, str(args.loops)],
                                 env={**os.environ, **env, "WORK_NS": str(work), "WORK_AFTER": "1" if after else "0"})
            procs.append(p)
            targets.append((label, path, p.pid, False))
    for i, binary in enumerate(args.fleet):
        d = f"{root}/fleet{i}"
        cfg = f"{root}/fleet{i}.yaml"
        with open(cfg, "w") as f:
            f.write(f"socket-dir: {d}\nloops: {args.loops}\nlimits: {{clients-per-vm: 4096}}\n"
                    f'vms: [{{name: "vm-{{n}}", count: 16, plugins: []}}]\n')
        p = subprocess.Popen([binary, "serve", "--config", cfg], stdout=subprocess.DEVNULL, stderr=open(f"{root}/fleet{i}.log", "w"))
        procs.append(p)
        targets.append((f"fleet{i}", f"{d}/vm-%d.qmp", p.pid, True))
        for _ in range(3000):
            if os.path.exists(f"{d}/vm-15.qmp"): break
            time.sleep(0.02)
    time.sleep(0.5)
    results = {}  # (clients, name) -> list of dicts
    try:
        for r in range(args.rounds):
            order = targets[r % len(targets):] + targets[:r % len(targets)]
            if r % 2: order.reverse()
            for clients in args.clients:
                for name, path, pid, qmp in order:
                    cmd = [f"{HERE}/client", path, str(clients), str(args.seconds), str(pid)] + (["--qmp"] if qmp else [])
                    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout.split()
                    row = {out[i]: float(out[i + 1]) for i in range(0, len(out), 2)}
                    row["load"] = os.getloadavg()[0]
                    results.setdefault((clients, name), []).append(row)
                    print(f"round {r + 1} clients {clients:2d} {name:15s} " + " ".join(f"{k} {v:.2f}" for k, v in row.items()), flush=True)
    finally:
        for p in procs: p.terminate()
        for p in procs: p.wait()
    print("\nmedians (ratio: median of each round's rate / a-block's rate in that round)")
    for clients in args.clients:
        base = results.get((clients, "a-block"))
        print(f"\n{clients} client(s)\n| shape | req/s | ratio to (a) | ratio, rounds not collapsed (n) | server CPU µs/req (user) | clients' CPU µs/req | client sleeps/req | server switches/req | load |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for name, *_ in targets:
            rows = results[(clients, name)]
            med = lambda k: statistics.median(x[k] for x in rows)
            ratio = statistics.median(x["rate"] / b["rate"] for x, b in zip(rows, base)) if base else float("nan")
            least = min(x["server_us"] for x in rows)
            good = [x["rate"] / b["rate"] for x, b in zip(rows, base) if x["server_us"] <= 2 * least and b["server_us"] <= 2 * min(y["server_us"] for y in base)] if base else []
            kept = f"{statistics.median(good):.2f} ({len(good)})" if good else "-"
            print(f"| {name} | {med('rate'):,.0f} | {ratio:.2f} | {kept} | {med('server_us'):.2f} ({med('server_user_us'):.2f}) | {med('client_us'):.2f} | {med('client_sleeps'):.2f} | {med('server_switches'):.2f} | {min(x['load'] for x in rows):.1f}-{max(x['load'] for x in rows):.1f} |")

main()
