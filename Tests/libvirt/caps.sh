#!/bin/bash
# libvirt 9.0's capability probe of $EMULATOR (real QEMU 7.2 or
# qmpfleet-emulator), through the embedded QEMU driver (no daemon):
#   EMULATOR=/usr/bin/qemu-system-x86_64 Tests/libvirt/caps.sh
# Prints what libvirt's capabilities cache records, one item a line:
# "flag NAME" for each capability flag (what decides how libvirt talks to
# the emulator: JSON -device/-object, blockdev-reopen, ...), then
# "version N" and "package TEXT". Tests/protocol/test_libvirt.py compares
# the two emulators. Needs root and Debian's libvirt-daemon-driver-qemu.
set -uo pipefail
EMULATOR=${EMULATOR:?set EMULATOR to the emulator binary}
W=$(mktemp -d /tmp/lvc-XXXXXX)
ROOT="$W/root"
trap 'rm -rf "$W"' EXIT
getent group libvirt-qemu >/dev/null || groupadd -r libvirt-qemu
getent passwd libvirt-qemu >/dev/null || useradd -r -g libvirt-qemu -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
mkdir -p "$ROOT/etc"
printf 'stdio_handler = "file"\nuser = "root"\ngroup = "root"\nremember_owner = 0\n' > "$ROOT/etc/qemu.conf"
# A wrapper at a fresh path: libvirt caches by the binary's path and ctime.
printf '#!/bin/sh\nexec %s "$@"\n' "$EMULATOR" > "$W/emulator"
chmod +x "$W/emulator"
export QMPFLEET_PLUGIN_DIR=${QMPFLEET_PLUGIN_DIR:-$(dirname "$EMULATOR")}
timeout 120 virsh -q -c "qemu:///embed?root=$ROOT" domcapabilities --emulatorbin "$W/emulator" \
    --arch x86_64 --virttype qemu >/dev/null || { echo "virsh domcapabilities failed" >&2; exit 1; }
cache=$(ls "$ROOT"/cache/qemu/capabilities/*.xml 2>/dev/null | head -1)
[ -n "$cache" ] || { echo "libvirt wrote no capabilities cache" >&2; exit 1; }
grep -o "<flag name='[^']*'" "$cache" | sed "s/<flag name='\(.*\)'/flag \1/" | sort
sed -n 's#^ *<version>\(.*\)</version>#version \1#p; s#^ *<package>\(.*\)</package>#package \1#p' "$cache"
