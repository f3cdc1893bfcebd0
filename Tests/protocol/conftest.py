"""Fixtures shared by the protocol tests.

- `qemu_vm(machine=..., paused=..., name=...)`: a real QEMU 7.2 on a private
  unix socket, killed at the end of the test. QEMU is the oracle.
- `fleet_factory(vms=..., templates=...)` / `fleet`: the built qmpfleet binary
  serving a temporary config in a short temporary socket dir; at the end it
  gets SIGTERM and must exit 0 having removed every socket file.
- `backend`: parametrized "qemu" and "fleet", for behaviour that must be the
  same on both; `backend.vm(paused=...)` gives a VM socket path.
- `raw_client(path)`: a byte-level client (qmp_raw.RawQMP), closed at the end.

A missing prerequisite (qemu-system-x86_64, the qmpfleet binary) skips the
test locally, and fails it when CI=true: CI installs everything, so a skip
there would only hide a broken setup.
"""
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from qmp_raw import RawQMP

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
QEMU_PROGRAM = "qemu-system-x86_64"
#: How long a server may take to create its socket files.
STARTUP_TIMEOUT_SECONDS = 20.0
#: How long qmpfleet may take to exit after SIGTERM.
SHUTDOWN_TIMEOUT_SECONDS = 10.0
#: sun_path is 108 bytes on Linux; keep well below.
SOCKET_PATH_LIMIT = 100


def in_ci():
    return os.environ.get("CI", "").lower() in ("true", "1", "yes")


def missing(reason):
    """Skip locally, fail in CI (where everything is meant to be installed)."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: a missing prerequisite is a failure)", pytrace=False)
    pytest.skip(reason)


def short_tempdir(prefix):
    """A fresh directory under /tmp, short enough for unix socket paths."""
    return tempfile.mkdtemp(prefix=prefix, dir="/tmp")


def listening_unix_paths():
    """Paths of listening unix sockets (/proc/net/unix, flag __SO_ACCEPTCON):
    QEMU binds before it listens, so a file can exist that refuses connects.
    qmpfleet binds `PATH.new` and renames it once it listens; the kernel
    keeps the bound name, so both spellings count."""
    with open("/proc/net/unix") as f:
        next(f)
        bound = {fields[7] for fields in (line.split() for line in f) if len(fields) > 7 and fields[3] == "00010000"}
    return bound | {p[:-len(".new")] for p in bound if p.endswith(".new")}


def wait_for_paths(paths, process, timeout=STARTUP_TIMEOUT_SECONDS, log_path=None):
    deadline = time.monotonic() + timeout
    while not (all(os.path.exists(p) for p in paths) and set(paths) <= listening_unix_paths()):
        if process.poll() is not None:
            raise AssertionError(f"{process.args[0]} exited with {process.returncode} before it was ready"
                                 + _log_tail(log_path))
        if time.monotonic() > deadline:
            absent = [p for p in paths if not os.path.exists(p)]
            raise AssertionError(f"{process.args[0]} not ready after {timeout}s: missing {absent}"
                                 + _log_tail(log_path))
        time.sleep(0.01)


def _log_tail(log_path, limit=3000):
    if not log_path or not os.path.exists(log_path):
        return ""
    with open(log_path, "rb") as f:
        text = f.read().decode(errors="replace")
    return "\n--- server log (tail) ---\n" + text[-limit:]


# ---------------------------------------------------------------- QEMU ----

class QemuProcess:
    """qemu-system-x86_64 -accel tcg -nodefaults -display none [-S] -qmp unix:...
    (`arch` names another qemu-system-ARCH)."""

    def __init__(self, machine="pc", paused=False, name=None, extra=(), arch=None):
        self.dir = short_tempdir("qq-")
        self.socket = os.path.join(self.dir, "q.qmp")
        self.log = os.path.join(self.dir, "qemu.log")
        program = f"qemu-system-{arch}" if arch else QEMU_PROGRAM
        args = [program, "-machine", machine, "-accel", "tcg", "-nodefaults", "-display", "none"]
        if paused:
            args.append("-S")
        if name:
            args += ["-name", name]
        args += list(extra) + ["-qmp", f"unix:{self.socket},server=on,wait=off"]
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        wait_for_paths([self.socket], self.process, log_path=self.log)

    def close(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def qemu_vm():
    """Factory: qemu_vm(machine="pc", paused=False, name=None) -> QemuProcess."""
    if shutil.which(QEMU_PROGRAM) is None:
        missing(f"{QEMU_PROGRAM} is not installed (scripts/install-deps installs qemu-system-x86)")
    started = []

    def start(machine="pc", paused=False, name=None, extra=()):
        vm = QemuProcess(machine, paused, name, extra)
        started.append(vm)
        return vm

    yield start
    for vm in started:
        vm.close()


# ------------------------------------------------------------- qmpfleet ----

_binary_cache = {}


def fleet_binary():
    """$QMPFLEET_BIN, else `swift build --show-bin-path`/qmpfleet; None if absent."""
    if "path" not in _binary_cache:
        path = os.environ.get("QMPFLEET_BIN")
        if not path:
            try:
                bin_dir = subprocess.run(["swift", "build", "--show-bin-path"], cwd=REPO_ROOT,
                                         capture_output=True, text=True, timeout=120).stdout.strip()
                path = os.path.join(bin_dir, "qmpfleet") if bin_dir else None
            except (OSError, subprocess.TimeoutExpired):
                path = None
        _binary_cache["path"] = path if path and os.access(path, os.X_OK) else None
        _binary_cache["tried"] = path
    return _binary_cache["path"]


def required_fleet_binary():
    """fleet_binary(), or the test is skipped (failed in CI) when there is none."""
    binary = fleet_binary()
    if binary is None:
        missing(f"qmpfleet binary not found ({_binary_cache.get('tried') or 'QMPFLEET_BIN unset'}); "
                f"build it with `swift build` or set QMPFLEET_BIN")
    return binary


def _yaml_scalar(value):
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return str(value)
    text = str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _yaml_flow(value):
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_yaml_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_yaml_flow(v) for v in value) + "]"
    return _yaml_scalar(value)


def fleet_yaml(socket_dir, templates, vms, version):
    """The config in the layout of config/fleet.yaml (block maps, flow leaves)."""
    lines = [f"socket-dir: {_yaml_scalar(socket_dir)}", f"qemu-version: {_yaml_flow(version)}", "templates:"]
    for name, template in templates.items():
        lines.append(f"  {name}:")
        lines += [f"    {key}: {_yaml_flow(value)}" for key, value in template.items()]
    lines.append("vms:")
    lines += [f"  - {_yaml_flow(vm)}" for vm in vms]
    return "\n".join(lines) + "\n"


#: What the fleet's greeting and query-version report in these tests.
FLEET_QEMU_VERSION = {"major": 7, "minor": 2, "micro": 0, "package": ""}
#: A pc machine with no plugins: the counterpart of `qemu -machine pc -nodefaults`.
PC_TEMPLATE = {
    "machine": "pc-i440fx-7.2",
    "start-paused": False,
    "smp": {"cpus": 1, "sockets": 1, "cores": 1, "threads": 1, "maxcpus": 1},
    "memory": {"size": "1G"},
    "powerdown-delay-ms": 500,
    "plugins": {},
}
#: vm0 runs, pre0 waits in prelaunch (like -S).
DEFAULT_VMS = [{"name": "vm0", "template": "pc"},
               {"name": "pre0", "template": "pc", "start-paused": True}]


def vm_names(vms):
    names = []
    for vm in vms:
        if "count" in vm:
            names += [vm["name"].replace("{n}", str(n)) for n in range(vm["count"])]
        else:
            names.append(vm["name"])
    return names


class FleetProcess:
    """`qmpfleet serve` on a temporary config; ready when all socket files exist."""

    def __init__(self, binary, templates, vms, version=FLEET_QEMU_VERSION, extra_args=()):
        self._serve(binary, vm_names(vms), lambda socket_dir: fleet_yaml(socket_dir, templates, vms, version),
                    extra_args)

    @classmethod
    def on_config(cls, binary, names, config, extra_args=()):
        """A fleet on a config of the caller's own: `config(socket_dir)` gives
        its text; `names` are the VMs whose sockets it must create."""
        fleet = cls.__new__(cls)
        fleet._serve(binary, names, config, extra_args)
        return fleet

    def _serve(self, binary, names, config, extra_args=(), prefix=()):
        """`prefix`: a command the fleet runs under (`unshare -m ...`), which
        must exec it in the same process."""
        self.dir = short_tempdir("qf-")
        self.socket_dir = os.path.join(self.dir, "s")
        self.config = os.path.join(self.dir, "fleet.yaml")
        self.log = os.path.join(self.dir, "qmpfleet.log")
        self.names = names
        with open(self.config, "w") as f:
            f.write(config(self.socket_dir))
        self.control = os.path.join(self.socket_dir, "fleet.qmp")
        longest = max([self.control] + [self.vm_socket(n) for n in self.names], key=len)
        assert len(longest) < SOCKET_PATH_LIMIT, f"socket path too long: {longest}"
        args = [*prefix, binary, "serve", "--config", self.config, "--socket-dir", self.socket_dir,
                "--plugin-dir", os.path.dirname(binary), *extra_args]
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        try:
            wait_for_paths([self.control] + [self.vm_socket(n) for n in self.names], self.process,
                           log_path=self.log)
        except AssertionError:
            self.cleanup()
            raise

    def vm_socket(self, name):
        return os.path.join(self.socket_dir, f"{name}.qmp")

    def socket_files(self):
        return sorted(glob.glob(os.path.join(self.socket_dir, "*.qmp")))

    def terminate(self, sig=signal.SIGTERM):
        """Stops the fleet; returns (exit code, socket files left behind)."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(SHUTDOWN_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                return None, self.socket_files()
        return self.process.returncode, self.socket_files()

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def log_tail(self):
        return _log_tail(self.log)

    def shutdown_problems(self):
        """Stops the fleet with SIGTERM; what went wrong, if anything: a fleet
        that was running must exit 0 and leave no socket file behind."""
        was_running = self.process.poll() is None
        code, left = self.terminate()
        problems = []
        if was_running and code != 0:
            problems.append(f"qmpfleet exited with {code} after SIGTERM{self.log_tail()}")
        if left:
            problems.append(f"qmpfleet left socket files behind: {left}")
        return problems

    def close(self):
        """Stops the fleet and removes its directory; AssertionError when the
        shutdown was not clean (see shutdown_problems)."""
        problems = self.shutdown_problems()
        self.cleanup()
        if problems:
            raise AssertionError("\n".join(problems))

    def cleanup(self):
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def fleet_factory():
    """Factory: fleet_factory(vms=DEFAULT_VMS, templates={"pc": PC_TEMPLATE}, extra_args=()),
    `extra_args` added to `qmpfleet serve`'s command line.

    At teardown every fleet still running gets SIGTERM and must exit 0 and
    leave no socket file behind."""
    binary = required_fleet_binary()
    started = []

    def start(vms=None, templates=None, extra_args=()):
        fleet = FleetProcess(binary, templates or {"pc": PC_TEMPLATE}, vms or DEFAULT_VMS, extra_args=extra_args)
        started.append(fleet)
        return fleet

    yield start
    problems = []
    for fleet in started:
        problems += fleet.shutdown_problems()
        fleet.cleanup()
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def fleet(fleet_factory):
    """The default fleet: vm0 running, pre0 in prelaunch."""
    return fleet_factory()


# -------------------------------------------------------------- backend ----

class QemuBackend:
    kind = "qemu"

    def __init__(self, qemu_vm):
        self._start = qemu_vm

    def vm(self, paused=False):
        """A fresh VM's QMP socket: running, or in prelaunch when paused."""
        return self._start("pc", paused=paused, name="pre0" if paused else "vm0").socket


class FleetBackend:
    kind = "fleet"

    def __init__(self, fleet_factory):
        self._start = fleet_factory

    def vm(self, paused=False):
        fleet = self._start()
        return fleet.vm_socket("pre0" if paused else "vm0")


@pytest.fixture(params=["qemu", "fleet"])
def backend(request):
    """A VM server: real QEMU 7.2 or qmpfleet. Tests that use it must pass on both."""
    if request.param == "qemu":
        return QemuBackend(request.getfixturevalue("qemu_vm"))
    return FleetBackend(request.getfixturevalue("fleet_factory"))


# -------------------------------------------------------------- clients ----

@pytest.fixture
def raw_client():
    """Factory: raw_client(path) -> RawQMP, closed at the end of the test."""
    clients = []

    def connect(path, **options):
        client = RawQMP(path, **options)
        clients.append(client)
        return client

    yield connect
    for client in clients:
        client.close()
