"""A kernel no package ships: Debian's 6.12 arm64 source with a fix reverted, built once and cached.

Every arm64 kernel Debian ships carries d4234d131b0a ("arm64: mm: Populate vmemmap at the page
level if not section aligned", v6.14, backported to 6.12.20 and 6.1.133), so the finding it fixes
can only be shown on a kernel built without it. The source is Debian's linux-source-6.12; the
revert puts back the pre-v6.14 test in arch/arm64/mm/mmu.c:vmemmap_populate(); the config is
allnoconfig plus conformance/prefix.config (everything built in). The same tree with the fix kept
is built too, as the control: the two kernels differ in that one line.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from mhpcheck.conform.initramfs import GUEST
from mhpcheck.conform.setup import (
    Apt,
    Kernel,
    Unavailable,
    _marker,
    cached_kernel,
    ensure_packages,
    last_line,
)

SERIES = "6.12"
PREFIX, FIXED = "6.12-prefix", "6.12-fixed"
MMU = Path("arch/arm64/mm/mmu.c")
WITH_FIX = (
    "\tif (!IS_ENABLED(CONFIG_ARM64_4K_PAGES) ||\n"
    "\t    (end - start < PAGES_PER_SECTION * sizeof(struct page)))\n"
    "\t\treturn vmemmap_populate_basepages(start, end, node, altmap);\n"
)
WITHOUT_FIX = (
    "\tif (!IS_ENABLED(CONFIG_ARM64_4K_PAGES))\n"
    "\t\treturn vmemmap_populate_basepages(start, end, node, altmap);\n"
)
BUILD_MINUTES = 20  # on 2 busy cores; the control then rebuilds in under a minute


def cached(cache: Path) -> dict[str, Kernel]:
    """The built kernels already in the cache, by series."""
    out = {}
    for series in (PREFIX, FIXED):
        if (k := cached_kernel("arm64-4k", series, cache)) is not None:
            out[series] = k
    return out


def build(cache: Path, install: bool, log: Callable[[str], None], jobs: int = 2) -> dict[str, Kernel]:
    """The pre-fix kernel and its control, built now if the cache lacks them (about 20 minutes)."""
    have = cached(cache)
    if len(have) == 2:
        return have
    ensure_packages(install, log, ("build",))
    work = cache / "build"
    src = _source(work, log)
    mmu = src / MMU
    text = mmu.read_text()
    if WITH_FIX not in text and WITHOUT_FIX not in text:
        raise Unavailable(f"{mmu}: vmemmap_populate() is not as 6.12.x has it; cannot revert the fix")
    version = _make_version(src)
    out = work / "out"
    make = ["nice", "make", "-C", str(src), f"O={out}", "ARCH=arm64", "CROSS_COMPILE=aarch64-linux-gnu-"]
    if not (out / ".config").exists():
        out.mkdir(parents=True, exist_ok=True)
        _make([*make, f"KCONFIG_ALLCONFIG={GUEST / 'prefix.config'}", "allnoconfig"], work, "allnoconfig")
    for series, body, tag in ((PREFIX, WITHOUT_FIX, "prefix"), (FIXED, WITH_FIX, "fixed")):
        if series in have:
            continue
        current = mmu.read_text()
        mmu.write_text(current.replace(WITH_FIX if body == WITHOUT_FIX else WITHOUT_FIX, body))
        release = f"{version}-mhpc-{tag}"
        _make([str(src / "scripts" / "config"), "--file", str(out / ".config"), "--set-str", "LOCALVERSION",
               f"-mhpc-{tag}"], work, "config")  # fmt: skip
        log(f"building {release} (arm64 Image, -j{jobs}; the first build takes about {BUILD_MINUTES} min)")
        _make([*make, f"-j{jobs}", "Image"], work, f"build-{tag}")
        root = cache / "kernels" / release
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        shutil.copyfile(out / "arch" / "arm64" / "boot" / "Image", root / "Image")
        shutil.copyfile(out / ".config", root / "config")
        (root / "source").write_text(f"{(work / 'source-version').read_text().strip()}, {tag}\n")
        (root / _marker("arm64-4k", series)).write_text(release + "\n")
        have[series] = Kernel(series, release, root, "arm64-4k")
    return have


def _source(work: Path, log: Callable[[str], None]) -> Path:
    """Debian's linux-source-6.12 unpacked under `work` (the package from Debian 12's lists)."""
    src = work / f"linux-source-{SERIES}"
    if (work / "source-version").exists() and src.is_dir():
        return src
    shutil.rmtree(src, ignore_errors=True)
    deb_root = work / "deb"
    Apt("bookworm", "amd64", work.parent, log).unpack([f"linux-source-{SERIES}"], deb_root, fresh=True)
    tarball = deb_root / "usr" / "src" / f"linux-source-{SERIES}.tar.xz"
    if not tarball.exists():
        raise Unavailable(f"linux-source-{SERIES} holds no {tarball.name}")
    log(f"unpacking {tarball.name}")
    r = subprocess.run(["tar", "-xJf", str(tarball), "-C", str(work)], capture_output=True, text=True)
    if r.returncode != 0:
        raise Unavailable(f"unpacking {tarball.name} failed: {last_line(r.stderr)}")
    changelog = deb_root / "usr" / "share" / "doc" / f"linux-source-{SERIES}" / "changelog.Debian.gz"
    version = "unknown version"
    if changelog.exists():
        import gzip

        m = re.match(r"\S+ \(([^)]+)\)", gzip.decompress(changelog.read_bytes()).decode(errors="replace"))
        version = m.group(1) if m else version
    shutil.rmtree(deb_root, ignore_errors=True)
    (work / "source-version").write_text(f"Debian linux-source-{SERIES} {version}\n")
    return src


def _make_version(src: Path) -> str:
    """VERSION.PATCHLEVEL.SUBLEVEL from the tree's Makefile."""
    head = (src / "Makefile").read_text()[:400]
    parts = [re.search(rf"^{k} = (\d+)", head, re.M) for k in ("VERSION", "PATCHLEVEL", "SUBLEVEL")]
    return ".".join(m.group(1) if m else "0" for m in parts)


def _make(cmd: list[str], work: Path, tag: str) -> None:
    """Run one build command, its output in work/<tag>.log; Unavailable with the log's last line."""
    log_file = work / f"{tag}.log"
    with log_file.open("w") as f:
        r = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, env={**os.environ, "LC_ALL": "C"})
    if r.returncode != 0:
        raise Unavailable(f"{tag} failed ({log_file}): {last_line(log_file.read_text())}")
