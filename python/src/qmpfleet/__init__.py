"""qmpfleet for Python: start a fleet of simulated QEMU VMs, create and destroy
VMs, drive their guests, inject faults; and a pytest plugin (fixtures
``qmpfleet`` and ``qmp_vm``, marker ``qmp_vm``)."""
from .binary import BINARY_VARIABLE, BinaryNotFound, find_binary
from .client import SyncQMPClient
from .fleet import Fleet, FleetError, VMHandle, default_templates

__all__ = ["BINARY_VARIABLE", "BinaryNotFound", "Fleet", "FleetError", "SyncQMPClient", "VMHandle", "default_templates",
           "find_binary"]
__version__ = "0.1.0"
