"""A FUSE filesystem whose reads are slow, for tests of I/O that must stay
off the fleet's loops (a file on NFS or FUSE that hangs is a regular
file: O_NONBLOCK does not apply to it).

    /usr/bin/python3 slow_fuse.py MOUNTPOINT DELAY_SECONDS

serves, read-only:
- slow.qcow2: a qcow2 header of a 1 GiB image; every read waits DELAY_SECONDS;
- slow.raw: 64 KiB of zeros; every read waits DELAY_SECONDS.
Lookups, attributes and opens answer at once. Runs in the foreground
until unmounted (fusermount3 -u) or killed. Needs fusepy (Debian's
python3-fusepy), hence Debian's python3, not the tests' own.
"""
import errno
import stat
import struct
import sys
import time

from fusepy import FUSE, FuseOSError, Operations

QCOW2_HEADER = struct.pack(">4sIQIIQ", b"QFI\xfb", 3, 0, 0, 16, 1 << 30).ljust(512, b"\0")
FILES = {"/slow.qcow2": QCOW2_HEADER, "/slow.raw": bytes(65536)}


class SlowFiles(Operations):
    def __init__(self, delay):
        self.delay = delay

    def getattr(self, path, fh=None):
        if path == "/":
            return {"st_mode": stat.S_IFDIR | 0o755, "st_nlink": 2}
        if path in FILES:
            return {"st_mode": stat.S_IFREG | 0o644, "st_nlink": 1, "st_size": len(FILES[path])}
        raise FuseOSError(errno.ENOENT)

    def readdir(self, path, fh):
        return [".", ".."] + [name[1:] for name in FILES]

    def open(self, path, flags):
        if path not in FILES:
            raise FuseOSError(errno.ENOENT)
        return 0

    def read(self, path, size, offset, fh):
        time.sleep(self.delay)
        return FILES[path][offset:offset + size]


if __name__ == "__main__":
    FUSE(SlowFiles(float(sys.argv[2])), sys.argv[1], foreground=True, ro=True, direct_io=True)
