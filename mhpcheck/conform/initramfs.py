"""The guest's initramfs, built by conformance/mkinitrd.sh once per kernel and guest-file content."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from mhpcheck.conform.setup import Kernel, Unavailable, last_line

# conformance/ at the top of the repository, reached through the mhpcheck/conform/guest symlink
GUEST = Path(__file__).resolve().parent / "guest"
FILES = ("init", "dimm.sh", "nvdimm.sh", "finding.sh", "mkinitrd.sh", "mtouch.c")


def fingerprint() -> str:
    """A short sha256 over the guest files, so that editing any of them builds a new image."""
    h = hashlib.sha256()
    for name in FILES:
        h.update(name.encode() + b"\0" + (GUEST / name).read_bytes() + b"\0")
    return h.hexdigest()[:16]


def mtouch(userland: Path) -> Path:
    """mtouch (conformance/mtouch.c) built static for aarch64 into the arm64 userland."""
    out = userland / "mtouch"
    src = GUEST / "mtouch.c"
    stamp = userland / "mtouch.sha256"
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    if out.exists() and stamp.exists() and stamp.read_text().strip() == digest:
        return out
    r = subprocess.run(
        ["aarch64-linux-gnu-gcc", "-O2", "-static", "-o", str(out), str(src)], capture_output=True, text=True
    )
    if r.returncode != 0:
        raise Unavailable(f"building mtouch for aarch64 failed: {last_line(r.stderr)}")
    stamp.write_text(digest + "\n")
    return out


def initramfs(kernel: Kernel, cache: Path, userland: Path | None = None) -> Path:
    """The initramfs for this kernel, from the cache or built now; `userland` holds the guest's
    busybox, ndctl and daxctl when they are not the host's (arm64)."""
    out = cache / "initrd" / f"{kernel.release}-{fingerprint()}.cpio.gz"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = ["bash", str(GUEST / "mkinitrd.sh"), str(kernel.root), kernel.release, str(out)]
    if userland is not None:
        mtouch(userland)
        cmd.append(str(userland))
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0 or not out.exists():
        raise Unavailable(f"building the initramfs for {kernel.release} failed: {last_line(r.stderr)}")
    return out
