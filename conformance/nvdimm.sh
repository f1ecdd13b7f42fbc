# Sourced by /init for the NVDIMM scenarios. QEMU gives one label-less 1 GiB NVDIMM, so there is one
# raw namespace0.0. fsdax-map-dev fsdax-map-mem devdax-map-dev devdax-map-mem: step "create".
# kmem-mom0 kmem-mom1: a devdax --map=dev namespace handed to the page allocator by dax kmem
# (daxctl reconfigure-device --mode=system-ram, onlined movable), steps "online" and "back-to-devdax".
NS=namespace0.0
if [ ! -e /tmp/nd-loaded ]; then
  for m in nfit nd_pmem nd_btt dax_pmem device_dax kmem; do modprobe $m || error "modprobe $m"; done
  # the nfit bus probes asynchronously; ndctl finds no region until it has
  i=0; while [ ! -e /sys/bus/nd/devices/$NS ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
  touch /tmp/nd-loaded
fi
one_line() { tr '\n' ' '; }
# namespace STEP: size and data start of the pfn or dax device that claims namespace0.0
namespace() {
  M "$1" ns_base "$(cat /sys/bus/nd/devices/$NS/resource)"
  for d in /sys/bus/nd/devices/pfn0.* /sys/bus/nd/devices/dax0.*; do
    [ "$(cat $d/namespace 2>/dev/null)" = "$NS" ] || continue
    M "$1" ns_size "$(cat $d/size)"
    M "$1" ns_data_start "$(cat $d/resource)"
    M "$1" ns_align "$(cat $d/align)"
  done
}
create() { # create MODE MAP
  out=$(ndctl create-namespace -f -e $NS -m "$1" --map="$2" 2>&1) || error "create-namespace: $(echo "$out" | one_line)"
}
destroy() {
  out=$(ndctl destroy-namespace -f $NS 2>&1) || error "destroy-namespace: $(echo "$out" | one_line)"
}
case "$SC" in
  fsdax-map-dev|fsdax-map-mem|devdax-map-dev|devdax-map-mem)
    mode=${SC%%-*}; map=${SC##*-}
    snap before
    create "$mode" "$map"
    snap create
    namespace create
    destroy
    ;;
  kmem-mom0|kmem-mom1)
    create devdax dev
    knob=/sys/bus/dax/devices/dax0.0/memmap_on_memory
    if [ -e $knob ]; then
      echo "${SC#kmem-mom}" > $knob || error "write $knob"
      M - dax_memmap_on_memory "$(cat $knob)"
    elif [ "$SC" = kmem-mom1 ]; then
      echo "@@SKIP $SC this kernel has no $knob"
      destroy
      return 0
    fi
    snap before
    out=$(daxctl reconfigure-device --mode=system-ram dax0.0 2>&1) || error "reconfigure system-ram: $(echo "$out" | one_line)"
    snap online
    out=$(daxctl offline-memory dax0.0 2>&1) || error "offline-memory: $(echo "$out" | one_line)"
    out=$(daxctl reconfigure-device --mode=devdax -f dax0.0 2>&1) || error "reconfigure devdax: $(echo "$out" | one_line)"
    snap back-to-devdax
    destroy
    ;;
esac
