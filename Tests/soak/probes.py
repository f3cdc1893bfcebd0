"""Probes for the soak: what every other client of the fleet notices.

Each probe is a client of a VM of its own asking `query-status` back to
back and timing each round trip. They run in a process of their own, one
thread each, so that the soak's 200 asyncio clients do not add their own
scheduling delays to the figure: a probe measures the fleet, not Python.
"""
import array
import multiprocessing
import socket
import threading
import time

#: A probe's round trip may take this long before it counts as lost.
PROBE_TIMEOUT_SECONDS = 10.0
REQUEST = b'{"execute": "query-status"}\n'


def _probe(path, deadline, samples, failures):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(PROBE_TIMEOUT_SECONDS)
    try:
        sock.connect(path)
        stream = sock.makefile("rb")
        stream.readline()
        sock.sendall(b'{"execute": "qmp_capabilities"}')
        stream.readline()
        while time.monotonic() < deadline:
            start = time.monotonic()
            sock.sendall(REQUEST)
            line = stream.readline()
            while line.startswith(b'{"timestamp"') or line.startswith(b'{"event"'):
                line = stream.readline()
            elapsed = time.monotonic() - start
            if b'"return"' not in line:
                failures.append(f"{path}: {line[:200]!r}")
                return
            samples.append(elapsed)
            time.sleep(0.002)
    except OSError as error:
        failures.append(f"{path}: {error!r}")
    finally:
        sock.close()


def _run(paths, seconds, pipe):
    deadline = time.monotonic() + seconds
    samples, failures = [], []
    threads = [threading.Thread(target=_probe, args=(p, deadline, samples, failures)) for p in paths]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    pipe.send((array.array("d", samples).tobytes(), failures))
    pipe.close()


class Probes:
    """`start()` the probes on `paths` for `seconds`; `result()` waits and
    gives (round trips in seconds, failures)."""

    def __init__(self, paths, seconds):
        self._receive, send = multiprocessing.Pipe(duplex=False)
        self._process = multiprocessing.Process(target=_run, args=(paths, seconds, send), daemon=True)

    def start(self):
        self._process.start()

    def result(self, timeout):
        if not self._receive.poll(timeout):
            self._process.kill()
            return [], ["the probes did not report"]
        raw, failures = self._receive.recv()
        self._process.join(5)
        samples = array.array("d")
        samples.frombytes(raw)
        return list(samples), failures
