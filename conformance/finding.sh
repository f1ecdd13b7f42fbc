# Sourced by /init for a finding's reproducer (scenario finding-<id>): two devdax namespaces back to
# back at the start of region0, inside one memory section, as the finding's shortest trace adds two
# device ranges sharing a section; then one is removed (mhpc.remove=first|second, the trace's
# remove) and the other used: every page of it touched through its devdax mapping, whose fault
# handler writes the struct page of each pfn, and then destroyed. Where the finding holds, the
# survivor's struct pages are gone with the removed one's and the kernel oopses. The host boots
# with oops=panic, so an oops ends the boot; the console lines around it are the evidence.
# Parameters (kernel command line): mhpc.ns= namespace size, mhpc.align= devdax alignment,
# mhpc.map= mem|dev (where the memmap lives), mhpc.remove= first|second.
NS_SIZE=32M; ALIGN=2M; MAP=mem; REMOVE=second
for a in $(cat /proc/cmdline); do
  case "$a" in
    mhpc.ns=*) NS_SIZE=${a#*=} ;; mhpc.align=*) ALIGN=${a#*=} ;;
    mhpc.map=*) MAP=${a#*=} ;; mhpc.remove=*) REMOVE=${a#*=} ;;
  esac
done
echo 8 > /proc/sys/kernel/printk  # WARNs are printed at a level 'quiet' hides
R=/sys/bus/nd/devices/region0
step() { echo "@@STEP $SC $1"; }
# do_ STEP CMD...: run one command of a step, its output straight to the console (an oops may
# come in the middle of it); on failure say so and give up the scenario
do_() {
  s=$1; shift
  echo "+ $*"
  "$@" 2>&1; rc=$?
  [ $rc = 0 ] || { error "$s: $* exited $rc"; return 1; }
}
ptdump() { # the vmemmap mappings, where the kernel has CONFIG_PTDUMP_DEBUGFS
  [ -e /sys/kernel/debug/kernel_page_tables ] || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
  [ -e /sys/kernel/debug/kernel_page_tables ] || return 0
  echo "--- vmemmap page tables $1"
  sed -n '/vmemmap start/,/vmemmap end/p' /sys/kernel/debug/kernel_page_tables | grep -v ' 0x0000.*     *$'
}
daxof() { for d in /sys/bus/nd/devices/dax*; do [ "$(cat $d/namespace 2>/dev/null)" = "$1" ] && ls $d | grep '^dax[0-9]'; done; }
finding() {
  for m in nfit nd_pmem dax_pmem device_dax; do modprobe $m 2>/dev/null; done
  i=0; while [ ! -e $R ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
  [ -e $R ] || { error "no region0: the kernel found no NVDIMM"; return 1; }
  step setup
  do_ setup ndctl disable-region region0 || return 1
  do_ setup ndctl init-labels -f nmem0 || return 1
  do_ setup ndctl enable-region region0 || return 1
  # the region's default alignment is 16 MiB; the kernel takes a sub-section (2 MiB) one
  echo 0x200000 > $R/align || { error "setup: region align 0x200000 refused"; return 1; }
  M - page_size "$(awk '/^KernelPageSize/ {print $2 * 1024; exit}' /proc/self/smaps)"
  M - region_start "$(cat $R/resource)"
  for n in a b; do
    step create-$n
    do_ create-$n ndctl create-namespace -f -r region0 -m devdax -M "$MAP" -s "$NS_SIZE" -a "$ALIGN" || return 1
  done
  # namespace0.N in address order: a is the lower one
  set -- $(for n in $R/namespace0.*; do r=$(cat $n/resource 2>/dev/null); [ -n "$r" ] && [ "$(cat $n/size)" != 0 ] && echo "$r $(basename $n)"; done | sort | awk '{print $2}')
  A=$1; B=$2
  for n in a b; do
    ns=$A; [ $n = b ] && ns=$B
    d=$(daxof $ns)
    M layout ${n}_namespace "$ns"
    M layout ${n}_start "$(cat /sys/bus/nd/devices/$ns/resource)"
    M layout ${n}_size "$(cat /sys/bus/nd/devices/$ns/size)"
    M layout ${n}_dax "$d"
    M layout ${n}_data_start "$(cat /sys/bus/dax/devices/$d/resource 2>/dev/null)"
    M layout ${n}_data_size "$(cat /sys/bus/dax/devices/$d/size)"
  done
  ptdump "after both adds"
  if [ "$REMOVE" = second ]; then GONE=$B; KEEP=$A; else GONE=$A; KEEP=$B; fi
  D=$(daxof $KEEP)
  SIZE=$(cat /sys/bus/dax/devices/$D/size)
  case $ALIGN in *K) STEP=$(( ${ALIGN%K} * 1024 ));; *M) STEP=$(( ${ALIGN%M} * 1048576 ));; *) STEP=$ALIGN;; esac
  step touch-before
  do_ touch-before mtouch /dev/$D "$SIZE" "$STEP" || return 1
  step remove
  do_ remove ndctl destroy-namespace -f "$GONE" || return 1
  ptdump "after removing $GONE"
  step touch-after
  do_ touch-after mtouch /dev/$D "$SIZE" "$STEP" || return 1
  step remove-other
  do_ remove-other ndctl destroy-namespace -f "$KEEP" || return 1
  echo "@@END $SC"
}
finding
