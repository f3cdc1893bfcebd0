"""tls-creds-anon/-x509/-psk and authz-simple/-list through object-add:
the same sequence sent to the built qmpfleet and to real QEMU 7.2 (the
credential files in one scratch directory under /tmp that both read),
every reply compared."""
import os
import shutil
import tempfile

from conftest import QemuProcess
from test_netchar_support import Fleet, replies_of


def obj(type, id, **props):
    return ("object-add", {"qom-type": type, "id": id, **props})


def sequence(empty, garbage, psk):
    return [
        obj("tls-creds-anon", "a0"),
        obj("tls-creds-anon", "a1", endpoint="server", dir=f"{empty}/none"),
        obj("tls-creds-anon", "a2", endpoint="bogus"),
        obj("tls-creds-x509", "x0"),
        obj("tls-creds-x509", "x1", dir=empty),
        obj("tls-creds-x509", "x2", dir=empty, endpoint="server"),
        obj("tls-creds-x509", "x3", dir=garbage),
        obj("tls-creds-x509", "x4", dir=garbage, endpoint="server"),
        obj("tls-creds-psk", "p0"),
        obj("tls-creds-psk", "p1", dir=empty),
        obj("tls-creds-psk", "p2", dir=psk),
        obj("tls-creds-psk", "p3", dir=psk, username="bob"),
        obj("tls-creds-psk", "p4", dir=psk, endpoint="server"),
        obj("authz-simple", "z0", identity="bob"),
        obj("authz-simple", "z1"),
        obj("authz-list", "z2"),
        obj("authz-list", "z3", policy="allow", rules=[{"match": "bob", "policy": "deny"}]),
        obj("authz-list", "z4", policy="maybe"),
        ("qom-get", {"path": "/objects/a0", "property": "endpoint"}),
        ("qom-get", {"path": "/objects/a0", "property": "verify-peer"}),
        ("qom-get", {"path": "/objects/a0", "property": "dir"}),
        ("qom-get", {"path": "/objects/a0", "property": "loaded"}),
        ("qom-get", {"path": "/objects/p4", "property": "endpoint"}),
        ("qom-get", {"path": "/objects/p4", "property": "dir"}),
        ("qom-get", {"path": "/objects/z2", "property": "policy"}),
        ("qom-get", {"path": "/objects/z2", "property": "rules"}),
        ("qom-get", {"path": "/objects/z3", "property": "policy"}),
        ("object-del", {"id": "p2"}),
        ("object-del", {"id": "z3"}),
        ("object-del", {"id": "x1"}),
    ]


def test_security_objects_match_qemu():
    scratch = tempfile.mkdtemp(prefix="tls-", dir="/tmp")
    try:
        empty, garbage, psk = (os.path.join(scratch, d) for d in ("empty", "garbage", "psk"))
        for d in (empty, garbage, psk):
            os.mkdir(d)
        with open(os.path.join(garbage, "ca-cert.pem"), "w") as f:
            f.write("garbage\n")
        with open(os.path.join(psk, "keys.psk"), "w") as f:
            f.write("qemu:0123456789abcdef\n")
        steps = sequence(empty, garbage, psk)
        theirs = replies_of(QemuProcess("pc", paused=True), steps)
        ours = replies_of(Fleet("{name: vm0, machine: pc, plugins: {block: {}}}"), steps)
        for (command, arguments), want, have in zip(steps, theirs, ours, strict=True):
            assert have == want, (command, arguments, have, want)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
