"""The pytest plugin (entry point ``pytest11``).

Fixtures:

- ``qmpfleet``: one :class:`~qmpfleet.Fleet` for the whole session.
- ``qmp_vm``: a fresh VM for one test, destroyed after it; ``.name`` and
  ``.socket`` (the path a QMP client connects to).

Marker ``@pytest.mark.qmp_vm(template="q35", **overrides)`` chooses the
template (default ``pc``) and config overrides of the test's ``qmp_vm``.

Options: ``--qmpfleet-bin`` (else ``$QMPFLEET_BIN``, else ``PATH``) and
``--qmpfleet-config`` (a fleet YAML file whose templates the fleet uses).

    def test_stop(qmp_vm):
        client = QMPClient("test")
        asyncio.run(...)   # connect to qmp_vm.socket
"""
from __future__ import annotations

import itertools
import re
from typing import Any, Iterator, Optional

import pytest

from .fleet import Fleet, VMHandle

_names = itertools.count()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("qmpfleet")
    group.addoption("--qmpfleet-bin", default=None, help="the qmpfleet binary (default: $QMPFLEET_BIN, then PATH)")
    group.addoption("--qmpfleet-config", default=None,
                    help="a fleet config (YAML) for the session's fleet (default: the pc, q35 and arm templates)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "qmp_vm(template='pc', **overrides): the template and config overrides of the test's qmp_vm VM")


@pytest.fixture(scope="session")
def qmpfleet(pytestconfig: pytest.Config) -> Iterator[Fleet]:
    """One fleet for the test session, stopped at its end; a fleet that did not
    exit cleanly (it crashed, or hung on SIGTERM) fails the session's teardown."""
    fleet = Fleet(config=pytestconfig.getoption("qmpfleet_config"), binary=pytestconfig.getoption("qmpfleet_bin"))
    fleet.start()
    try:
        yield fleet
    finally:
        status = fleet.stop()
    if status != 0:
        pytest.fail(f"qmpfleet exited with {status}{fleet.final_log}", pytrace=False)


def _vm_name(node_name: str) -> str:
    """A short, unique VM name that says which test it belongs to."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", node_name)[:24].strip("-") or "test"
    return f"{stem}-{next(_names)}"


@pytest.fixture
def qmp_vm(qmpfleet: Fleet, request: pytest.FixtureRequest) -> Iterator[VMHandle]:
    """A VM made for this test (template ``pc`` unless the ``qmp_vm`` marker says
    otherwise) and destroyed after it, with the faults added for it."""
    marker: Optional[pytest.Mark] = request.node.get_closest_marker("qmp_vm")
    template: Any = "pc"
    overrides: dict[str, Any] = {}
    if marker is not None:
        if marker.args:
            template = marker.args[0]
        overrides = dict(marker.kwargs)
        template = overrides.pop("template", template)
    vm = qmpfleet.create_vm(_vm_name(request.node.name), template=template, **overrides)
    try:
        yield vm
    finally:
        for fault in qmpfleet.faults():
            if fault.get("vm") == vm.name:
                qmpfleet.remove_fault(fault["id"])
        qmpfleet.destroy_vm(vm.name)
