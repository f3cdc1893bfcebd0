"""Fleet: start and stop, VMs, guest actions, faults, the binary lookup."""
import os
import stat

import pytest
from qemu.qmp import ExecuteError

import qmpfleet
from qmpfleet import BinaryNotFound, Fleet, FleetError, SyncQMPClient, find_binary

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_starts_in_a_private_directory_and_cleans_up():
    with Fleet(vms=["web", {"name": "db", "template": "q35"}]) as fleet:
        directory = os.path.dirname(fleet.socket_dir)
        assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
        assert [(vm["name"], vm["template"], vm["status"]) for vm in fleet.vms()] == [
            ("web", "pc", "running"), ("db", "q35", "prelaunch")]
        assert fleet.socket("web") == os.path.join(fleet.socket_dir, "web.qmp")
        with fleet.connect("db") as client:
            assert client.execute("query-status")["status"] == "prelaunch"
    assert not os.path.exists(directory)
    assert fleet.stop() is None


def test_stop_reports_a_clean_exit():
    fleet = Fleet()
    fleet.start()
    assert fleet.running
    assert fleet.stop() == 0
    assert not fleet.running


def test_create_with_overrides_and_destroy(qmpfleet):
    vm = qmpfleet.create_vm("over", template="pc", start_paused=True, memory="2G")
    with SyncQMPClient(vm.socket) as client:
        assert client.execute("query-status")["status"] == "prelaunch"
        assert client.execute("query-memory-size-summary")["base-memory"] == 2 << 30
    qmpfleet.destroy_vm("over")
    assert "over" not in [v["name"] for v in qmpfleet.vms()]
    with pytest.raises(ExecuteError, match="VM 'over' not found"):
        qmpfleet.destroy_vm("over")
    with pytest.raises(FleetError, match="not found"):
        qmpfleet.socket("over")


def test_guest_action_reaches_the_client(qmpfleet, qmp_vm):
    with SyncQMPClient(qmp_vm.socket) as client:
        qmpfleet.guest_action(qmp_vm.name, "guest", "panic")
        assert client.execute("query-status")["status"] == "guest-panicked"
        assert [e["event"] for e in client.events()][:1] == ["GUEST_PANICKED"]


def test_inject_fault_is_listed_with_its_firings(qmpfleet, qmp_vm):
    fault = qmpfleet.inject_fault("query-status", vm=qmp_vm.name, times=2, desc="no status today")
    with SyncQMPClient(qmp_vm.socket) as client:
        for _ in range(2):
            with pytest.raises(ExecuteError, match="no status today"):
                client.execute("query-status")
        assert client.execute("query-status")["status"] == "running"
    [listed] = [f for f in qmpfleet.faults() if f["id"] == fault]
    assert (listed["fired"], listed["remaining"], listed["error-class"]) == (2, 0, "GenericError")
    qmpfleet.remove_fault(fault)
    assert fault not in [f["id"] for f in qmpfleet.faults()]


def test_delay_fault(qmpfleet, qmp_vm):
    import time
    qmpfleet.inject_fault("query-name", vm=qmp_vm.name, delay_ms=300, times=1)
    with SyncQMPClient(qmp_vm.socket) as client:
        start = time.monotonic()
        client.execute("query-name")
        assert time.monotonic() - start >= 0.3


@pytest.mark.qmp_vm(template="q35")
def test_marker_chooses_the_template(qmpfleet, qmp_vm):
    [info] = [vm for vm in qmpfleet.vms() if vm["name"] == qmp_vm.name]
    assert info["template"] == "q35"


@pytest.mark.qmp_vm("pc", start_paused=True)
def test_marker_takes_overrides(qmp_vm):
    with SyncQMPClient(qmp_vm.socket) as client:
        assert client.execute("query-status")["status"] == "prelaunch"


def test_qmp_vm_is_destroyed_after_its_test(pytester):
    pytester.makepyfile("""
        def test_one(qmpfleet, qmp_vm):
            assert qmp_vm.name in [vm["name"] for vm in qmpfleet.vms()]
            open("name.txt", "w").write(qmp_vm.name)

        def test_two(qmpfleet):
            name = open("name.txt").read()
            assert name not in [vm["name"] for vm in qmpfleet.vms()]
    """)
    if not _plugin_installed():
        pytester.makeconftest("pytest_plugins = ['qmpfleet.pytest_plugin']")
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)


def _plugin_installed():
    from importlib.metadata import entry_points
    return any(e.value == "qmpfleet.pytest_plugin" for e in entry_points(group="pytest11"))


def test_binary_lookup_order(tmp_path, monkeypatch):
    binary = find_binary()
    monkeypatch.setenv("QMPFLEET_BIN", binary)
    assert find_binary() == binary
    fake = tmp_path / "qmpfleet"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    assert find_binary(str(fake)) == str(fake)
    monkeypatch.setenv("QMPFLEET_BIN", str(tmp_path / "absent"))
    with pytest.raises(BinaryNotFound, match="QMPFLEET_BIN"):
        find_binary()
    monkeypatch.delenv("QMPFLEET_BIN")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_binary() == str(fake)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(BinaryNotFound, match="PATH"):
        find_binary()


def test_a_fleet_that_cannot_start_says_why(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("vms: [{name: x, template: nope}]\n")
    with pytest.raises(FleetError, match="no template named 'nope'"):
        Fleet(config=str(bad)).start()


def test_templates_are_the_repositorys():
    path = os.path.join(REPO, "config", "fleet.yaml")
    if not os.path.exists(path):
        pytest.skip("not in a qmpfleet checkout")
    text = open(path).read()
    section = text[text.index("\ntemplates:") + 1:text.index("\nvms:") + 1]
    assert qmpfleet.default_templates() == section, (
        "python/src/qmpfleet/templates.yaml differs from config/fleet.yaml's templates; copy them with\n"
        "  awk '/^templates:/{p=1} /^vms:/{p=0} p' config/fleet.yaml > python/src/qmpfleet/templates.yaml")


def test_a_fleet_that_dies_fails_the_session(pytester):
    pytester.makepyfile("""
        import os, signal

        def test_kill(qmpfleet):
            os.kill(qmpfleet._process.pid, signal.SIGKILL)
            qmpfleet._process.wait()
    """)
    if not _plugin_installed():
        pytester.makeconftest("pytest_plugins = ['qmpfleet.pytest_plugin']")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*qmpfleet exited with -9*"])


def test_socket_dir_puts_the_sockets_there():
    import tempfile
    parent = tempfile.mkdtemp(prefix="qf-py-", dir="/tmp")
    sockets = os.path.join(parent, "s")
    try:
        with Fleet(vms=["a"], socket_dir=sockets) as fleet:
            assert fleet.socket("a") == os.path.join(sockets, "a.qmp")
            assert os.path.exists(os.path.join(sockets, "fleet.qmp"))
        assert not os.path.exists(os.path.join(sockets, "a.qmp"))  # removed at stop
    finally:
        import shutil
        shutil.rmtree(parent, ignore_errors=True)


def test_seeded_faults_and_events_through_python(qmpfleet, qmp_vm):
    fault = qmpfleet.inject_fault("query-name", vm=qmp_vm.name, probability=0.5, seed=3, desc="flaky")
    with SyncQMPClient(qmp_vm.socket) as client:
        outcomes = []
        for _ in range(20):
            try:
                client.execute("query-name")
                outcomes.append(True)
            except ExecuteError:
                outcomes.append(False)
    qmpfleet.remove_fault(fault)
    fault = qmpfleet.inject_fault("query-name", vm=qmp_vm.name, probability=0.5, seed=3, desc="flaky")
    with SyncQMPClient(qmp_vm.socket) as client:
        again = []
        for _ in range(20):
            try:
                client.execute("query-name")
                again.append(True)
            except ExecuteError:
                again.append(False)
        assert again == outcomes and 0 < sum(outcomes) < 20
        qmpfleet.inject_fault("query-kvm", vm=qmp_vm.name, event="block-io-error", device="drive0", times=1)
        client.execute("query-kvm")
        [event] = [e for e in client.events() if e["event"] == "BLOCK_IO_ERROR"] or [None]
        assert event is not None and event["data"]["device"] == "drive0"
