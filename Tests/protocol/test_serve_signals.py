"""`qmpfleet serve` and SIGTERM: from the moment a client can see the fleet
(its first socket file), a SIGTERM ends it cleanly, as a service manager's
stop expects: exit status 0 and no socket file left behind. The fleet used to
install its signal watchers only after every VM was made, so a SIGTERM that
came while a large config was still starting killed it outright."""
import os
import shutil
import signal
import subprocess
import time

from conftest import (FLEET_QEMU_VERSION, PC_TEMPLATE, SHUTDOWN_TIMEOUT_SECONDS, STARTUP_TIMEOUT_SECONDS,
                      fleet_yaml, required_fleet_binary, short_tempdir)

#: VMs in the config: enough that making them takes a while after the first
#: socket exists (a debug build makes a few thousand a second).
VMS = 3000


def test_sigterm_while_the_fleet_is_still_starting_ends_it_cleanly():
    binary = required_fleet_binary()
    directory = short_tempdir("qf-")
    try:
        socket_dir = os.path.join(directory, "s")
        config = os.path.join(directory, "fleet.yaml")
        with open(config, "w") as f:
            f.write(fleet_yaml(socket_dir, {"pc": PC_TEMPLATE}, [{"name": "vm{n}", "template": "pc", "count": VMS}],
                               FLEET_QEMU_VERSION))
        with open(os.path.join(directory, "qmpfleet.log"), "wb") as log:
            process = subprocess.Popen([binary, "serve", "--config", config, "--socket-dir", socket_dir,
                                        "--plugin-dir", os.path.dirname(binary)],
                                       stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        try:
            first = os.path.join(socket_dir, "vm0.qmp")
            deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
            while not os.path.exists(first):
                assert process.poll() is None, f"qmpfleet exited with {process.returncode} before its first socket"
                assert time.monotonic() < deadline, "no socket file appeared"
                time.sleep(0.001)
            last = os.path.join(socket_dir, f"vm{VMS - 1}.qmp")
            still_starting = not os.path.exists(last)
            process.send_signal(signal.SIGTERM)
            code = process.wait(SHUTDOWN_TIMEOUT_SECONDS)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        left = [name for name in os.listdir(socket_dir) if name.endswith(".qmp")] if os.path.isdir(socket_dir) else []
        assert code == 0, f"qmpfleet exited with {code} after SIGTERM (sent while starting: {still_starting})"
        assert left == [], f"{len(left)} socket files left behind"
    finally:
        shutil.rmtree(directory, ignore_errors=True)
