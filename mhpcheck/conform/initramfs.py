"""The guest's initramfs, built by conformance/mkinitrd.sh once per kernel and guest-file content."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from mhpcheck.conform.setup import Kernel, Unavailable, last_line

# conformance/ at the top of the repository, reached through the mhpcheck/conform/guest symlink
GUEST = Path(__file__).resolve().parent / "guest"
FILES = ("init", "dimm.sh", "nvdimm.sh", "mkinitrd.sh")


def fingerprint() -> str:
    """A short sha256 over the guest files, so that editing any of them builds a new image."""
    h = hashlib.sha256()
    for name in FILES:
        h.update(name.encode() + b"\0" + (GUEST / name).read_bytes() + b"\0")
    return h.hexdigest()[:16]


def initramfs(kernel: Kernel, cache: Path) -> Path:
    """The initramfs for this kernel, from the cache or built now."""
    out = cache / "initrd" / f"{kernel.release}-{fingerprint()}.cpio.gz"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(
        ["bash", str(GUEST / "mkinitrd.sh"), str(kernel.root), kernel.release, str(out)],
        capture_output=True,
        text=True,
    )
    if r.returncode != 0 or not out.exists():
        raise Unavailable(f"building the initramfs for {kernel.release} failed: {last_line(r.stderr)}")
    return out
