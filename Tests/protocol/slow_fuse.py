"""A FUSE filesystem whose reads, and optionally opens, are slow, for tests
of I/O that must stay off the fleet's loops (a file on NFS or FUSE that
hangs is a regular file: O_NONBLOCK does not apply to its reads, nor to
its lookup and open).

    /usr/bin/python3 slow_fuse.py MOUNTPOINT READ_DELAY [OPEN_DELAY [LOOKUP_DELAY]]

serves:
- slow.qcow2: a qcow2 header of a 1 GiB image;
- slow.raw: 64 KiB of zeros;
- backed.qcow2: a qcow2 header of a 1 GiB image whose backing file is
  slow.raw (a name relative to the image, as qemu-img -b writes it);
- any file a client creates (kept in memory), writable, and any socket a
  client binds (mknod).
Every read waits READ_DELAY seconds; every open, create, truncate, unlink
and mknod waits OPEN_DELAY seconds (default 0); every lookup of a name in
it (its attributes) waits LOOKUP_DELAY seconds (default 0), and with a
lookup delay the kernel caches no name or attribute, so each lookup asks.
Runs in the foreground until unmounted (fusermount3 -u) or killed. Needs
fusepy (Debian's python3-fusepy), hence Debian's python3, not the tests'
own.
"""
import errno
import stat
import struct
import sys
import threading
import time

from fusepy import FUSE, FuseOSError, Operations

QCOW2_HEADER = struct.pack(">4sIQIIQ", b"QFI\xfb", 3, 0, 0, 16, 1 << 30).ljust(512, b"\0")
BACKING_NAME = b"slow.raw"
BACKED_QCOW2_HEADER = (struct.pack(">4sIQIIQ", b"QFI\xfb", 3, 256, len(BACKING_NAME), 16, 1 << 30).ljust(256, b"\0")
                       + BACKING_NAME).ljust(512, b"\0")


class SlowFiles(Operations):
    def __init__(self, read_delay, open_delay, lookup_delay=0.0):
        self.read_delay = read_delay
        self.open_delay = open_delay
        self.lookup_delay = lookup_delay
        self.files = {"/slow.qcow2": bytearray(QCOW2_HEADER), "/slow.raw": bytearray(65536),
                      "/backed.qcow2": bytearray(BACKED_QCOW2_HEADER)}
        self.modes = {path: stat.S_IFREG | 0o644 for path in self.files}
        self.mutex = threading.Lock()

    def getattr(self, path, fh=None):
        if path == "/":
            return {"st_mode": stat.S_IFDIR | 0o755, "st_nlink": 2}
        time.sleep(self.lookup_delay)
        with self.mutex:
            if path in self.files:
                return {"st_mode": self.modes[path], "st_nlink": 1, "st_size": len(self.files[path])}
        raise FuseOSError(errno.ENOENT)

    def readdir(self, path, fh):
        with self.mutex:
            return [".", ".."] + [name[1:] for name in self.files]

    def open(self, path, flags):
        time.sleep(self.open_delay)
        with self.mutex:
            if path not in self.files:
                raise FuseOSError(errno.ENOENT)
            if flags & 0o1000:  # O_TRUNC
                self.files[path] = bytearray()
        return 0

    def create(self, path, mode, fi=None):
        time.sleep(self.open_delay)
        with self.mutex:
            self.files[path] = bytearray()
            self.modes[path] = stat.S_IFREG | (mode & 0o777)
        return 0

    def mknod(self, path, mode, dev):
        time.sleep(self.open_delay)
        with self.mutex:
            self.files[path] = bytearray()
            self.modes[path] = mode
        return 0

    def read(self, path, size, offset, fh):
        time.sleep(self.read_delay)
        with self.mutex:
            return bytes(self.files[path][offset:offset + size])

    def write(self, path, data, offset, fh):
        with self.mutex:
            content = self.files[path]
            if len(content) < offset:
                content.extend(bytes(offset - len(content)))
            content[offset:offset + len(data)] = data
        return len(data)

    def truncate(self, path, length, fh=None):
        time.sleep(self.open_delay)
        with self.mutex:
            content = self.files[path]
            del content[length:]
            content.extend(bytes(length - len(content)))

    def chmod(self, path, mode):
        with self.mutex:
            self.modes[path] = (self.modes[path] & ~0o777) | (mode & 0o777)

    def unlink(self, path):
        time.sleep(self.open_delay)
        with self.mutex:
            self.files.pop(path, None)
            self.modes.pop(path, None)

    def utimens(self, path, times=None):
        pass


if __name__ == "__main__":
    open_delay = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    lookup_delay = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
    # With a lookup delay nothing is cached: each lookup reaches getattr.
    caching = {"entry_timeout": 0, "attr_timeout": 0, "negative_timeout": 0} if lookup_delay > 0 else {}
    # hard_remove: libfuse's high-level layer otherwise renames a file that is
    # still open to .fuse_hiddenNNN instead of unlinking it (and this
    # filesystem has no rename, so the unlink fails). The kernel sends
    # RELEASE asynchronously after close(), so an unlink right after a close
    # (a failed chardev-add removing the file it made) raced it.
    FUSE(SlowFiles(float(sys.argv[2]), open_delay, lookup_delay), sys.argv[1], foreground=True, direct_io=True,
         hard_remove=True, **caching)
