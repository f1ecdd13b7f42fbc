# Sourced by /init for dimm-mom1 and dimm-mom0 (the host sets memory_hotplug.memmap_on_memory=1 or 0
# on the command line): ACPI pc-dimm hot-add of 128 MiB (one memory block) and 1 GiB (eight),
# online_movable, offline, eject. Steps: add-d1 online-d1 add-d2 online-d2 offline-d1 offline-d2
# remove-d1 remove-d2.
B0=$(nblocks)
# new_blocks OLD-LIST: the blocks present now that were not in OLD-LIST
new_blocks() { for b in $(blocks); do echo "$1" | grep -qx "$b" || echo "$b"; done; }
set_state() { # set_state STATE BLOCKS...
  st=$1; shift
  for b in "$@"; do echo "$st" > $MEM/memory$b/state || error "$st memory$b failed"; done
}
snap before
old=$(blocks)
hmp "object_add memory-backend-ram,id=m1,size=128M"
hmp "device_add pc-dimm,id=d1,memdev=m1"
wait_blocks $((B0 + 1))
D1=$(new_blocks "$old")
snap add-d1
set_state online_movable $D1
snap online-d1
old=$(blocks)
hmp "object_add memory-backend-ram,id=m2,size=1G"
hmp "device_add pc-dimm,id=d2,memdev=m2"
wait_blocks $((B0 + 9))
D2=$(new_blocks "$old")
snap add-d2
set_state online_movable $D2
snap online-d2
set_state offline $D1
snap offline-d1
set_state offline $D2
snap offline-d2
hmp "device_del d1"
wait_blocks $((B0 + 8))
snap remove-d1
hmp "device_del d2"
wait_blocks $B0
snap remove-d2
