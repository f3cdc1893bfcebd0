"""Finding the ``qmpfleet`` executable."""
from __future__ import annotations

import os
import shutil
from typing import Optional

#: The environment variable naming the binary, as the repository's tests use it.
BINARY_VARIABLE = "QMPFLEET_BIN"


class BinaryNotFound(FileNotFoundError):
    """No ``qmpfleet`` executable: none given, ``$QMPFLEET_BIN`` unset and none on ``PATH``."""


def find_binary(binary: Optional[str] = None) -> str:
    """The ``qmpfleet`` to run: ``binary`` when given, else ``$QMPFLEET_BIN``,
    else the first ``qmpfleet`` on ``PATH``. Raises :class:`BinaryNotFound`."""
    for source, candidate in (("argument", binary), (BINARY_VARIABLE, os.environ.get(BINARY_VARIABLE))):
        if candidate:
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return os.path.abspath(candidate)
            raise BinaryNotFound(f"qmpfleet binary from {source} is not an executable file: {candidate}")
    found = shutil.which("qmpfleet")
    if found:
        return found
    raise BinaryNotFound(f"no qmpfleet binary: pass binary=, set {BINARY_VARIABLE}, or put qmpfleet on PATH")
