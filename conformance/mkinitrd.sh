#!/bin/bash
# mkinitrd.sh KROOT RELEASE OUT.cpio.gz
# The guest's initramfs: busybox-static, /init and the scenario scripts beside this file, the
# nvdimm/dax modules of the kernel unpacked at KROOT (dpkg-deb -x), and ndctl/daxctl with their
# shared libraries. Written to OUT.cpio.gz only when complete.
set -euo pipefail
KROOT=$1; KVER=$2; OUT=$3
HERE=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
mkdir -p "$W"/{bin,sbin,proc,sys,dev,tmp,run,etc,lib64,usr/bin,scenarios,lib/modules/$KVER}
cp "$(command -v busybox)" "$W/bin/busybox"
cp "$HERE/init" "$W/init"; chmod +x "$W/init"
cp "$HERE/dimm.sh" "$HERE/nvdimm.sh" "$W/scenarios/"
MD=$KROOT/lib/modules/$KVER
[ -f "$MD/modules.dep" ] || depmod -b "$KROOT" "$KVER"
# ACPI memory hotplug is built in; only the NVDIMM route needs modules (and what they depend on)
for m in nfit libnvdimm nd_pmem nd_btt nd_e820 dax_pmem device_dax kmem; do
  for f in $(grep -E "/$m\.ko(\.[a-z]+)?:" "$MD/modules.dep" | tr -d ':'); do
    mkdir -p "$W/lib/modules/$KVER/$(dirname "$f")"; cp "$MD/$f" "$W/lib/modules/$KVER/$f"
  done
done
cp "$MD"/modules.{order,builtin,builtin.modinfo} "$W/lib/modules/$KVER/" 2>/dev/null || true
# busybox modprobe loads plain .ko only; newer Debian kernels ship them compressed
find "$W/lib/modules" -name '*.ko.xz' -exec xz -d {} +
find "$W/lib/modules" -name '*.ko.zst' -exec zstd -q -d --rm {} +
sed -i 's/\.ko\.\(xz\|zst\)/.ko/g' "$W/lib/modules/$KVER/modules.order" 2>/dev/null || true
depmod -b "$W" "$KVER"
for b in ndctl daxctl; do
  p=$(command -v $b)
  cp "$p" "$W/usr/bin/"
  for l in $(ldd "$p" | awk '/=>/ {print $3} /^\s*\/lib64/ {print $1}'); do
    mkdir -p "$W$(dirname "$l")"; cp -L "$l" "$W$l"
  done
done
[ -e "$W/lib64/ld-linux-x86-64.so.2" ] || cp -L /lib64/ld-linux-x86-64.so.2 "$W/lib64/"
(cd "$W" && find . | cpio -o -H newc --quiet | gzip -1 > "$OUT.tmp")
mv "$OUT.tmp" "$OUT"
