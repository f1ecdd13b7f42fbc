"""mhpcheck: a bounded model checker for Linux memory hotplug (vmem_altmap, vmemmap, ZONE_DEVICE)."""

__version__ = "0.1.0"
