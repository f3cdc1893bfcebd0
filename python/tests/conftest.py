"""The package's own tests use the plugin it installs (entry point pytest11);
run from a checkout without installing, they load it from src/."""
import os
import sys

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
try:
    import qmpfleet.pytest_plugin  # noqa: F401  (installed: pytest loaded it already)
    INSTALLED = True
except ImportError:
    sys.path.insert(0, SRC)
    INSTALLED = False

pytest_plugins = ["pytester"] + ([] if INSTALLED else ["qmpfleet.pytest_plugin"])
