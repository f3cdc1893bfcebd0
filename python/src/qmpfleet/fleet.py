"""A qmpfleet process for the length of a test run."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from importlib import resources
from typing import Any, Dict, Iterable, List, Mapping, Optional, Union

from qemu.qmp import ConnectError

from .binary import find_binary
from .client import SyncQMPClient

#: A VM to create at start: a name (template ``pc``), or a ``vms:`` entry
#: such as ``{"name": "db", "template": "q35", "memory": "2G"}``.
VMEntry = Union[str, Mapping[str, Any]]
ConfigSource = Union[None, str, "os.PathLike[str]", Mapping[str, Any]]


class FleetError(RuntimeError):
    """The fleet did not start, or stopped on its own."""


@dataclass(frozen=True)
class VMHandle:
    """A VM of the fleet: its name and the QMP socket the code under test connects to."""

    name: str
    socket: str


def default_templates() -> str:
    """The templates ``pc``, ``q35`` and ``arm`` (the repository's config/fleet.yaml) as YAML text."""
    return resources.files(__package__).joinpath("templates.yaml").read_text()


def _hyphenated(arguments: Mapping[str, Any]) -> Dict[str, Any]:
    """Python keyword names to QMP/config keys: ``start_paused`` -> ``start-paused``."""
    return {key.replace("_", "-"): value for key, value in arguments.items() if value is not None}


class Fleet:
    """Starts ``qmpfleet serve`` in a private directory and talks to its control socket.

    >>> with Fleet(vms=["web"]) as fleet:
    ...     fleet.socket("web")             # hand this path to the code under test
    ...     fleet.create_vm("db", template="q35")
    ...     fleet.inject_fault("block_resize", vm="web", times=1, desc="Could not resize")

    ``config`` is ``None`` (the templates ``pc``, ``q35``, ``arm`` and no VMs), a
    path to a fleet YAML file, or a mapping written as the config. Its
    ``socket-dir`` is always replaced: sockets go to ``socket_dir`` when given,
    else into a fresh private (0700) directory removed at stop.
    """

    def __init__(self, config: ConfigSource = None, vms: Iterable[VMEntry] = (), socket_dir: Optional[str] = None,
                 *, binary: Optional[str] = None, plugin_dirs: Iterable[str] = (), loops: Optional[int] = None,
                 log_level: str = "warning", startup_timeout: float = 30.0, command_timeout: float = 30.0) -> None:
        self.binary = find_binary(binary)
        self._config = config
        self._vms = list(vms)
        self._requested_socket_dir = socket_dir
        self._plugin_dirs = list(plugin_dirs)
        self._loops = loops
        self._log_level = log_level
        self._startup_timeout = startup_timeout
        self._command_timeout = command_timeout
        self._private_dir: Optional[str] = None
        self._process: Optional["subprocess.Popen[bytes]"] = None
        self._control: Optional[SyncQMPClient] = None
        self.socket_dir = ""
        self.log_path = ""
        #: The end of the log as it was when the fleet stopped (its directory is gone then).
        self.final_log = ""

    # -- life cycle ---------------------------------------------------------

    def __enter__(self) -> "Fleet":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Starts the fleet and returns once its control socket answers."""
        if self._process is not None:
            raise FleetError("the fleet is already started")
        self._private_dir = tempfile.mkdtemp(prefix="qmpfleet-", dir="/tmp")
        os.chmod(self._private_dir, 0o700)
        self.socket_dir = self._requested_socket_dir or os.path.join(self._private_dir, "sockets")
        self.log_path = os.path.join(self._private_dir, "fleet.log")
        command = [self.binary, "serve", "--config", self._write_config(), "--socket-dir", self.socket_dir,
                   "--log-level", self._log_level]
        for directory in self._plugin_dirs:
            command += ["--plugin-dir", directory]
        if self._loops is not None:
            command += ["--loops", str(self._loops)]
        with open(self.log_path, "wb") as log:
            self._process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        try:
            self._control = self._wait_for_control()
            for entry in self._vms:
                if isinstance(entry, str):
                    self.create_vm(entry)
                else:
                    fields = dict(entry)
                    self.create_vm(fields.pop("name"), fields.pop("template", "pc"), **fields)
        except BaseException:
            self.stop()
            raise

    def _write_config(self) -> str:
        assert self._private_dir is not None
        config = self._config
        if config is not None and not isinstance(config, Mapping):
            return os.fspath(config)
        path = os.path.join(self._private_dir, "fleet.yaml")
        with open(path, "w") as f:
            if config is None:
                f.write(default_templates())
                f.write("vms: []\n")
            else:
                json.dump(dict(config), f)  # JSON is YAML
        return path

    def _wait_for_control(self) -> SyncQMPClient:
        path = os.path.join(self.socket_dir, "fleet.qmp")
        deadline = time.monotonic() + self._startup_timeout
        while True:
            assert self._process is not None
            if self._process.poll() is not None:
                raise FleetError(f"qmpfleet exited with {self._process.returncode} before it listened{self.log_tail()}")
            if os.path.exists(path):
                try:
                    # The control socket answers once every configured VM is up.
                    return SyncQMPClient(path, timeout=self._command_timeout, name="qmpfleet-control")
                except (OSError, ConnectError):
                    pass  # bound but not yet accepting: try again
            if time.monotonic() > deadline:
                raise FleetError(f"qmpfleet did not listen on {path} within {self._startup_timeout}s{self.log_tail()}")
            time.sleep(0.02)

    def log_tail(self, limit: int = 3000) -> str:
        """The end of the fleet's log (its stderr), headed by its path; empty when there is none."""
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode(errors="replace")
        except OSError:
            return ""
        return f"\n--- qmpfleet log ({self.log_path}) ---\n{text[-limit:]}" if text else ""

    def stop(self, timeout: float = 10.0) -> Optional[int]:
        """Stops the fleet (SIGTERM: clients get SHUTDOWN) and removes its private
        directory, keeping the end of its log in ``final_log``. Returns the exit
        status (None if it was not started)."""
        if self._control is not None:
            self._control.close()
            self._control = None
        status: Optional[int] = None
        if self._process is not None:
            process, self._process = self._process, None
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            status = process.returncode
        if self._private_dir is not None:
            self.final_log = self.log_tail()
            shutil.rmtree(self._private_dir, ignore_errors=True)
            self._private_dir = None
        return status

    # -- the control socket -------------------------------------------------

    @property
    def control(self) -> SyncQMPClient:
        """The client of the fleet's control socket (``fleet.qmp``)."""
        if self._control is None:
            raise FleetError("the fleet is not running")
        return self._control

    def execute(self, command: str, arguments: Optional[Mapping[str, Any]] = None) -> Any:
        """Runs a control-socket command (``query-vms``, ``vm-create``, ...)."""
        return self.control.execute(command, dict(arguments) if arguments is not None else None)

    def create_vm(self, name: str, template: Optional[str] = "pc", **overrides: Any) -> VMHandle:
        """Creates VM ``name`` from ``template`` with ``overrides`` over it, in the
        config's terms (``memory="2G"``, ``start_paused=True``, ``plugins={...}``)."""
        arguments: Dict[str, Any] = {"name": name}
        if template is not None:
            arguments["template"] = template
        if overrides:
            arguments["config"] = _hyphenated(overrides)
        info = self.execute("vm-create", arguments)
        return VMHandle(name=name, socket=info.get("socket") or os.path.join(self.socket_dir, f"{name}.qmp"))

    def destroy_vm(self, name: str) -> None:
        """Ends VM ``name``: its clients are closed and its socket removed."""
        self.execute("vm-destroy", {"name": name})

    def vms(self) -> List[Dict[str, Any]]:
        """``query-vms``: each VM's name, socket, status, template, plugins, clients."""
        return list(self.execute("query-vms"))

    def socket(self, name: str) -> str:
        """The path of VM ``name``'s QMP socket, the one to hand to the code under test."""
        found = self.execute("query-vms", {"name": name})
        if not found:
            raise FleetError(f"VM '{name}' not found")
        return str(found[0]["socket"])

    def vm(self, name: str) -> VMHandle:
        return VMHandle(name=name, socket=self.socket(name))

    def guest_action(self, vm: str, plugin: str, action: str, **arguments: Any) -> Any:
        """Makes the simulated guest act, e.g. ``guest_action("web", "guest", "panic")`` or
        ``guest_action("web", "block", "io-error", device="drive0")``."""
        request: Dict[str, Any] = {"vm": vm, "plugin": plugin, "action": action}
        if arguments:
            request["arguments"] = arguments
        return self.execute("guest-action", request)

    def inject_fault(self, command: Optional[str] = None, *, vm: Optional[str] = None, action: Optional[str] = None,
                     error_class: Optional[str] = None, desc: Optional[str] = None, delay_ms: Optional[int] = None,
                     event: Optional[str] = None, times: Optional[int] = None, probability: Optional[float] = None,
                     seed: Optional[int] = None, id: Optional[str] = None, **event_arguments: Any) -> str:
        """Adds a fault (``fault-add``) and returns its id.

        ``command``/``vm`` choose what it watches (None: every command, every
        VM); ``times`` and ``probability``/``seed`` when it fires; the action is
        ``"error"`` (``error_class``, ``desc``), ``"delay"`` (``delay_ms``),
        ``"drop-reply"``, ``"disconnect"`` or ``"event"`` (``event`` of
        ``block-io-error`` with ``device=``, ``guest-panicked``,
        ``migration-failed``). Without ``action`` it is the one the other
        arguments imply (``desc`` -> error, ``delay_ms`` -> delay, ``event`` -> event).
        """
        if action is None:
            if event is not None:
                action = "event"
            elif delay_ms is not None:
                action = "delay"
            else:
                action = "error"
        if action == "error" and desc is None:
            desc = f"fault injected into {command or 'a command'}"
        fields = _hyphenated(dict(id=id, vm=vm, command=command, action=action, error_class=error_class, desc=desc,
                                  delay_ms=delay_ms, event=event, times=times, probability=probability, seed=seed,
                                  **event_arguments))
        return str(self.execute("fault-add", fields)["id"])

    def remove_fault(self, fault_id: str) -> None:
        self.execute("fault-remove", {"id": fault_id})

    def faults(self) -> List[Dict[str, Any]]:
        """``query-faults``: every fault with ``fired`` (and ``fired-by-vm``)."""
        return list(self.execute("query-faults"))

    def connect(self, name: str) -> SyncQMPClient:
        """A negotiated blocking client of VM ``name`` (close it when done)."""
        return SyncQMPClient(self.socket(name), timeout=self._command_timeout)
