"""Conformance with real kernels: stock Debian kernels under QEMU, their figures against the model's."""
