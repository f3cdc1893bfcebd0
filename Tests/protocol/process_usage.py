"""What a running server holds, read from outside through /proc/<pid>: its
open file descriptors and its resident memory. The hostile-client tests and
the soak (Tests/soak) judge leaks by these."""
import os
import time


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def rss_kb(pid):
    """VmRSS in KB; AssertionError when there is none (the process has exited)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS for process {pid}")


def settle(pid, baseline_fds, timeout=5.0):
    """Waits until the server has closed what the clients opened (its fd
    count is back at `baseline_fds`) or `timeout` has passed; the fd count."""
    deadline = time.monotonic() + timeout
    while fd_count(pid) > baseline_fds and time.monotonic() < deadline:
        time.sleep(0.05)
    return fd_count(pid)
