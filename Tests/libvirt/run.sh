#!/bin/bash
# libvirt manages a domain whose <emulator> is $EMULATOR (real QEMU 7.2 or
# qmpfleet-emulator):
#   EMULATOR=/usr/bin/qemu-system-x86_64 Tests/libvirt/run.sh
# MODE=embed (the default): libvirt's embedded QEMU driver, no daemon, its
#   root in this run's temporary directory.
# MODE=system: a real libvirtd serving qemu:///system, the way libvirt runs
#   on every distribution (state in /var/lib/libvirt and /run/libvirt), started
#   here in the foreground with its own socket directory, and stopped at the end.
# With QMPFLEET_CONTROL=<socket-dir>/fleet.qmp, qmpfleet-emulator hands the
# VM to that running fleet instead of running it in-process.
# Each step prints one line "step: <rc> <normalised output>", so the same
# run against both emulators can be compared line by line
# (Tests/protocol/test_libvirt.py does that). Needs root and Debian's
# libvirt-daemon-driver-qemu, libvirt-clients and qemu-utils (and
# libvirt-daemon for MODE=system); no KVM.
set -uo pipefail
EMULATOR=${EMULATOR:?set EMULATOR to the emulator binary}
MODE=${MODE:-embed}
W=$(mktemp -d /tmp/lv-XXXXXX)
QEMU_CONF='stdio_handler = "file"
user = "root"
group = "root"
remember_owner = 0'

# libvirt's QEMU driver needs its compiled-in user and group to exist.
getent group libvirt-qemu >/dev/null || groupadd -r libvirt-qemu
getent passwd libvirt-qemu >/dev/null || useradd -r -g libvirt-qemu -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu

case "$MODE" in
embed)
    ROOT="$W/root"
    URI="qemu:///embed?root=$ROOT"
    PIDDIR="$ROOT/run/qemu"
    mkdir -p "$ROOT/etc"
    printf '%s\n' "$QEMU_CONF" > "$ROOT/etc/qemu.conf"
    # Only this run's emulator processes, by the pidfiles libvirt keeps.
    trap 'for p in "$PIDDIR"/*.pid; do [ -s "$p" ] && kill "$(cat "$p")" 2>/dev/null; done; rm -rf "$W"' EXIT
    ;;
system)
    PIDDIR=/run/libvirt/qemu
    # The system driver reads /etc/libvirt/qemu.conf: this run's settings go
    # there, and whatever was there before is put back at the end.
    CONF=/etc/libvirt/qemu.conf
    mkdir -p /etc/libvirt "$W/sock"
    [ -e "$CONF" ] && cp -p "$CONF" "$W/qemu.conf.saved"
    printf '%s\n' "$QEMU_CONF" > "$CONF"
    cat > "$W/libvirtd.conf" <<CONF
unix_sock_dir = "$W/sock"
auth_unix_rw = "none"
auth_unix_ro = "none"
log_outputs = "3:file:$W/libvirtd.log"
CONF
    libvirtd -f "$W/libvirtd.conf" --pid-file "$W/libvirtd.pid" >"$W/libvirtd.out" 2>&1 &
    LIBVIRTD_PID=$!
    trap 'for p in "$PIDDIR"/citest.pid; do [ -s "$p" ] && kill "$(cat "$p")" 2>/dev/null; done
          kill "$LIBVIRTD_PID" 2>/dev/null; wait "$LIBVIRTD_PID" 2>/dev/null
          if [ -e "$W/qemu.conf.saved" ]; then cp -p "$W/qemu.conf.saved" "$CONF"; else rm -f "$CONF"; fi
          rm -rf "$W"' EXIT
    for _ in $(seq 100); do [ -S "$W/sock/libvirt-sock" ] && break; sleep 0.1; done
    [ -S "$W/sock/libvirt-sock" ] || { echo "libvirtd did not start:" >&2; cat "$W/libvirtd.out" >&2; exit 1; }
    URI="qemu:///system?socket=$W/sock/libvirt-sock"
    ;;
*) echo "MODE must be embed or system" >&2; exit 2 ;;
esac

# A wrapper at a fresh path: libvirt caches capabilities by the binary's
# path and ctime (a copy of QEMU itself would not find its modules).
# libvirt starts the emulator with a cleaned environment, so a fleet to
# hand the VM to (QMPFLEET_CONTROL, qmpfleet-emulator's mode (a)) is named
# in the wrapper.
if [ -n "${QMPFLEET_CONTROL:-}" ]; then
    printf '#!/bin/sh\nQMPFLEET_CONTROL=%s exec %s "$@"\n' "$QMPFLEET_CONTROL" "$EMULATOR" > "$W/emulator"
else
    printf '#!/bin/sh\nexec %s "$@"\n' "$EMULATOR" > "$W/emulator"
fi
chmod +x "$W/emulator"
# qmpfleet-emulator finds its plugins next to itself (or in QMPFLEET_PLUGIN_DIR).
export QMPFLEET_PLUGIN_DIR=${QMPFLEET_PLUGIN_DIR:-$(dirname "$EMULATOR")}

qemu-img create -q -f raw "$W/disk.img" 16M
qemu-img create -q -f raw "$W/disk2.img" 8M
truncate -s 4M "$W/cd1.iso" "$W/cd2.iso"
cat > "$W/dom.xml" <<XML
<domain type='qemu'>
  <name>citest</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <emulator>$W/emulator</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='$W/disk.img'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='$W/cd1.iso'/>
      <target dev='hdc' bus='ide'/>
      <readonly/>
    </disk>
    <interface type='user'><mac address='52:54:00:12:34:56'/><model type='virtio'/></interface>
    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <video><model type='none'/></video>
    <memballoon model='none'/>
  </devices>
</domain>
XML
cat > "$W/disk2.xml" <<XML
<disk type='file' device='disk'>
  <driver name='qemu' type='raw'/>
  <source file='$W/disk2.img'/>
  <target dev='vdb' bus='virtio'/>
</disk>
XML

# virsh 9.0's embedded driver sometimes segfaults while it shuts down
# (exit 139, after its work is done). Repeating such a run is wrong for a
# step that changes the domain (an attach done twice is refused as a
# duplicate), so output is line-buffered (nothing is lost in the crash) and
# that exit counts as success; a crash before the work would show in the
# steps that follow.
V() {
    local out rc
    out=$(timeout 60 stdbuf -oL -eL virsh -q -c "$URI" "$@" 2>&1); rc=$?
    if [ $rc -eq 139 ]; then echo "virsh $1: segfault at exit (ignored)" >&2; rc=0; fi
    printf '%s\n' "$out"
    return $rc
}
# In embedded mode each virsh re-attaches to the emulator in a background
# job; a monitor command first waits for it (its reply line is dropped from
# the step's output), so the step does not race it (notes/libvirt-ci.md).
SYNC="qemu-monitor-command citest '{\"execute\":\"query-status\"}'"
VS() { V "$SYNC; $*"; }
# One line per step: the exit status, then the output with this run's
# temporary directory, pty numbers and blank lines normalised away.
step() {
    local name=$1; shift
    local out rc
    out=$("$@"); rc=$?
    out=$(printf '%s' "$out" | grep -v '^{"return":{"status":' | grep -vE '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:.]+\+0000: [0-9]+: (info|warning) :' |
          sed -e "s#$W#W#g" -e 's#/dev/pts/[0-9]*#/dev/pts/N#g' -e 's#"libvirt-[0-9]*"#"libvirt-N"#g' |
          tr -s ' ' | grep -v '^ *$' | tr '\n' '|')
    echo "$name: $rc $out"
}

# A domain left by an earlier run that was cut off (the system daemon keeps
# its definitions) is removed first.
{ V destroy citest; V undefine citest; } >/dev/null 2>&1
step define V define "$W/dom.xml"
step start V start citest
step domstate V domstate citest
step suspend VS suspend citest
step domstate-paused V domstate citest
step resume VS resume citest
step domstate-running V domstate citest
step domblklist V domblklist citest
step eject VS change-media citest hdc --eject
step domblklist-ejected V domblklist citest
step insert VS change-media citest hdc "$W/cd2.iso" --insert
step domblklist-inserted V domblklist citest
step attach-device VS attach-device citest "$W/disk2.xml" --live
step domblklist-attached V domblklist citest
step detach-device VS detach-device citest "$W/disk2.xml" --live
{ for _ in $(seq 50); do V domblklist citest | grep -q vdb || break; sleep 0.1; done; } 2>/dev/null
step domblklist-detached V domblklist citest
step monitor-query-status V qemu-monitor-command citest --pretty '{"execute":"query-status"}'
step ttyconsole V ttyconsole citest
# In embedded mode each virsh re-attaches to the emulator; a monitor command
# first syncs with that attach so destroy does not race it (notes/libvirt-ci.md).
step destroy VS destroy citest
step domstate-destroyed V domstate citest
step start-again V start citest
# Needs a guest that handles ACPI: the simulated guest powers off; real QEMU
# with no OS on its disk does not (the one step that differs by design).
# One virsh sees it through: an embedded driver lives only as long as virsh.
step shutdown V "shutdown citest; event --domain citest --event lifecycle --loop --timeout 5; domstate citest"
V "qemu-monitor-command citest '{\"execute\":\"query-status\"}'; destroy citest" >/dev/null 2>&1
step undefine V undefine citest
