#!/bin/bash
# mkinitrd.sh KROOT RELEASE OUT.cpio.gz [USERLAND]
# The guest's initramfs: busybox-static, /init and the scenario scripts beside this file, the
# nvdimm/dax modules of the kernel unpacked at KROOT (dpkg-deb -x; lib/modules or usr/lib/modules;
# a kernel built with everything in has none), and ndctl/daxctl with their shared libraries.
# Without USERLAND they are the host's (an x86_64 guest); with it, the root where arm64 .debs were
# unpacked, whose libraries are found by reading the ELF files (ldd cannot run a foreign binary),
# and USERLAND/mtouch goes in as well. Written to OUT.cpio.gz only when complete.
set -euo pipefail
KROOT=$1; KVER=$2; OUT=$3; U=${4:-}
HERE=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
mkdir -p "$W"/{bin,sbin,proc,sys,dev,tmp,run,etc,lib,lib64,usr/bin,scenarios,lib/modules/$KVER}
cp "$HERE/init" "$W/init"; chmod +x "$W/init"
cp "$HERE/dimm.sh" "$HERE/nvdimm.sh" "$HERE/finding.sh" "$W/scenarios/"
MD=$KROOT/lib/modules/$KVER
[ -d "$MD" ] || MD=$KROOT/usr/lib/modules/$KVER
if [ -d "$MD" ]; then
  [ -f "$MD/modules.dep" ] || depmod -b "${MD%/lib/modules/$KVER}" "$KVER"
  # ACPI memory hotplug is built in; only the NVDIMM route needs modules (and what they depend on)
  for m in nfit libnvdimm nd_pmem nd_btt nd_e820 dax_pmem dax_pmem_core dax_pmem_compat device_dax kmem; do
    for f in $(grep -E "(^|/)$m\.ko(\.[a-z]+)?:" "$MD/modules.dep" | tr -d ':'); do
      mkdir -p "$W/lib/modules/$KVER/$(dirname "$f")"; cp "$MD/$f" "$W/lib/modules/$KVER/$f"
    done
  done
  cp "$MD"/modules.{order,builtin,builtin.modinfo} "$W/lib/modules/$KVER/" 2>/dev/null || true
  # busybox modprobe loads plain .ko only; newer Debian kernels ship them compressed
  find "$W/lib/modules" -name '*.ko.xz' -exec xz -d {} +
  find "$W/lib/modules" -name '*.ko.zst' -exec zstd -q -d --rm {} +
  sed -i 's/\.ko\.\(xz\|zst\)/.ko/g' "$W/lib/modules/$KVER/modules.order" 2>/dev/null || true
  depmod -b "$W" "$KVER"
fi
if [ -z "$U" ]; then
  cp "$(command -v busybox)" "$W/bin/busybox"
  for b in ndctl daxctl; do
    p=$(command -v $b)
    cp "$p" "$W/usr/bin/"
    for l in $(ldd "$p" | awk '/=>/ {print $3} /^\s*\/lib64/ {print $1}'); do
      mkdir -p "$W$(dirname "$l")"; cp -L "$l" "$W$l"
    done
  done
  [ -e "$W/lib64/ld-linux-x86-64.so.2" ] || cp -L /lib64/ld-linux-x86-64.so.2 "$W/lib64/"
else
  cp "$U/bin/busybox" "$W/bin/busybox"
  [ ! -e "$U/mtouch" ] || cp "$U/mtouch" "$W/usr/bin/mtouch"
  find_lib() {
    for d in lib/aarch64-linux-gnu usr/lib/aarch64-linux-gnu lib; do
      [ -e "$U/$d/$1" ] && { echo "$d/$1"; return; }
    done
    echo "mkinitrd.sh: library $1 not in $U" >&2; exit 1
  }
  todo="usr/bin/ndctl usr/bin/daxctl"; seen=" "
  while [ -n "$todo" ]; do
    set -- $todo; f=$1; shift; todo="$*"
    case "$seen" in *" $f "*) continue;; esac; seen="$seen$f "
    mkdir -p "$W/$(dirname "$f")"; cp -L "$U/$f" "$W/$f"
    for n in $(readelf -d "$U/$f" | awk -F'[][]' '/NEEDED/ {print $2}'); do todo="$todo $(find_lib "$n")"; done
  done
  cp -L "$U/lib/ld-linux-aarch64.so.1" "$W/lib/" 2>/dev/null || cp -L "$U/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1" "$W/lib/"
fi
(cd "$W" && find . | cpio -o -H newc --quiet | gzip -1 > "$OUT.tmp")
mv "$OUT.tmp" "$OUT"
