"""The default fleet of config/fleet.yaml, as the README's quick start starts
it: every VM it names must start with the plugins it names, and a VM of each
template must answer for each of its plugins. A schema clash between two
plugins (one type declared two ways) stops a VM; this is where it shows."""
import json
import os
import shutil
import subprocess

import pytest

import qmp_async
from qemu.qmp import ExecuteError
from conftest import REPO_ROOT, fleet_binary, missing, short_tempdir, wait_for_paths

CONFIG = os.path.join(REPO_ROOT, "config", "fleet.yaml")

#: One command each plugin of the default templates serves, with arguments
#: that work on any VM (None: the command needs a device the VM may lack, so
#: only its presence is checked).
PLUGIN_PROBES = {
    "block": ("query-block", {}),
    "net": ("query-rx-filter", {}),
    "chardev": ("query-chardev", {}),
    "memory": ("query-memory-devices", {}),
    "cpu-hotplug": ("query-hotpluggable-cpus", {}),
    "tpm": ("query-tpm", {}),
    "rocker": ("query-rocker", None),
    "dump": ("query-dump", {}),
    "display": ("send-key", None),
    "trace": ("trace-event-get-state", {"name": "*"}),
    "migration": ("query-migrate", {}),
    "gic": ("query-gic-capabilities", {}),
    "balloon": ("query-balloon", {}),
    "replay": ("query-replay", {}),
    "colo": ("query-colo-status", {}),
}
#: Probes that QEMU 7.2 answers with an error on a template's machine (the
#: plugin is there to list the command, as QEMU lists it): the error text.
PROBE_ERRORS = {
    # virt has no CPU hot-plug in 7.2 (qemu-system-aarch64 -M virt says so).
    ("arm0", "cpu-hotplug"): "The feature 'query-hotpluggable-cpus' is not enabled",
}


def binary_or_skip():
    binary = fleet_binary()
    if binary is None:
        missing("qmpfleet binary not found; build it with `swift build` or set QMPFLEET_BIN")
    return binary


def test_check_config_accepts_the_default_fleet():
    binary = binary_or_skip()
    result = subprocess.run([binary, "check-config", CONFIG, "--plugin-dir", os.path.dirname(binary)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "OK: 53 VMs" in result.stdout


def test_check_config_names_a_vm_whose_plugin_is_missing():
    binary = binary_or_skip()
    tmp = short_tempdir("cc-")
    config = os.path.join(tmp, "fleet.yaml")
    with open(config, "w") as f:
        f.write(f"socket-dir: {tmp}/s\nvms:\n  - {{name: good, plugins: [net]}}\n"
                f"  - {{name: bad, plugins: [net, no-such-plugin]}}\n")
    result = subprocess.run([binary, "check-config", config, "--plugin-dir", os.path.dirname(binary)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "VM bad:" in result.stderr and "no-such-plugin" in result.stderr
    assert "VM good" not in result.stderr


def test_default_fleet_starts_every_vm_with_its_plugins():
    binary = binary_or_skip()
    tmp = short_tempdir("df-")
    socket_dir = os.path.join(tmp, "s")
    log_path = os.path.join(tmp, "qmpfleet.log")
    with open(log_path, "wb") as log:
        process = subprocess.Popen([binary, "serve", "--config", CONFIG, "--socket-dir", socket_dir,
                                    "--plugin-dir", os.path.dirname(binary)],
                                   stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    names = ["web", "db", "arm0"] + [f"ci-{n}" for n in range(50)]
    try:
        wait_for_paths([os.path.join(socket_dir, f"{n}.qmp") for n in names] + [os.path.join(socket_dir, "fleet.qmp")],
                       process, log_path=log_path)
        with open(log_path) as f:
            assert "not started" not in f.read()
        qmp_async.run(probe_plugins(socket_dir))
        readme_qmp_shell_session(os.path.join(socket_dir, "web.qmp"))
    finally:
        process.terminate()
        process.wait(10)
    assert process.returncode == 0


async def probe_plugins(socket_dir):
    control = await qmp_async.connect(os.path.join(socket_dir, "fleet.qmp"))
    vms = await qmp_async.execute(control, "query-vms")
    await control.disconnect()
    assert len(vms) == 53
    by_name = {vm["name"]: vm for vm in vms}
    for name in ("web", "db", "arm0", "ci-49"):
        client = await qmp_async.connect(os.path.join(socket_dir, f"{name}.qmp"))
        commands = {c["name"] for c in await qmp_async.execute(client, "query-commands")}
        for plugin in by_name[name]["plugins"]:
            probe, arguments = PLUGIN_PROBES[plugin]
            assert probe in commands, f"{name}: {plugin} does not serve {probe}"
            if (name, plugin) in PROBE_ERRORS:
                with pytest.raises(ExecuteError) as error:
                    await qmp_async.execute(client, probe, arguments or {})
                assert error.value.error.error.desc == PROBE_ERRORS[(name, plugin)]
            elif arguments is not None:
                await qmp_async.execute(client, probe, arguments)
        await client.disconnect()


def readme_qmp_shell_session(path):
    """The README's qmp-shell lines, through the real qmp-shell: the disk
    the default pc VM has grows, and query-block reports the new size."""
    shell = shutil.which("qmp-shell")
    if shell is None:
        missing("qmp-shell not installed (pip install qemu.qmp)")
    script = "block_resize device=drive0 size=42949672960\nquery-block\n"
    result = subprocess.run([shell, path], input=script, capture_output=True, text=True, timeout=30)
    replies = [json.loads(line[line.index("{"):]) for line in result.stdout.splitlines() if line.startswith("(QEMU) {")]
    assert replies[0] == {"return": {}}, result.stdout + result.stderr
    disks = {d["device"]: d for d in replies[1]["return"]}
    assert disks["drive0"]["inserted"]["image"]["virtual-size"] == 42949672960
    assert disks["cd0"]["removable"] and disks["cd0"]["qdev"] == "cdrom0"
