"""Kernel source trees: a checkout the user names, or Debian's linux-source-X.Y unpacked into a cache.

Debian ships the kernel's source as a package, linux-source-X.Y (6.1 and 6.12 in Debian 12,
newer series in unstable): a stable point release with Debian's backports, which is what a tree
fetched here holds, and what `release` says. The cache keeps one folder per series,
`<cache>/<X.Y>/linux-source-<X.Y>`, marked complete once unpacked, beside the .deb it came from.
Debian unstable is reached through a private apt configuration inside the cache, so the
system's own sources are never changed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mhpcheck.core.errors import InputError

UNSTABLE = (
    "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian sid main"
)
_SERIES = re.compile(r"^\d+\.\d+$")


class SourceUnavailable(Exception):
    """The package could not be fetched or unpacked here; the message says why (exit 3)."""


@dataclass(frozen=True)
class Tree:
    """A kernel source tree: its root, its release (from its Makefile) and where it came from."""

    root: Path
    release: str  # "6.12.118"
    origin: str  # "Debian linux-source-6.12 6.12.118-1~deb12u1", or the folder given

    @property
    def series(self) -> str:
        """ "6.12" for 6.12.118."""
        return ".".join(self.release.split(".")[:2])


def default_cache_dir() -> Path:
    """$KERNEL_SOURCE_CACHE, else ~/.cache/kernel-source (or under $XDG_CACHE_HOME)."""
    if env := os.environ.get("KERNEL_SOURCE_CACHE"):
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kernel-source"


def check_series(version: str) -> str:
    """`version` if it names a kernel series ("6.12"), else InputError."""
    if not _SERIES.match(version):
        raise InputError(f"--kernel {version}: not a kernel series; give MAJOR.MINOR, e.g. 6.12")
    return version


def release_of(root: Path) -> str:
    """The release a kernel tree's top Makefile declares ("6.12.118"); InputError if not a tree."""
    makefile = root / "Makefile"
    if not root.is_dir():
        raise InputError(f"{root}: no such folder")
    try:
        text = makefile.read_text(encoding="utf-8", errors="replace")
    except OSError:
        raise InputError(f"{root}: not a kernel tree (no top-level Makefile)") from None
    fields = dict(re.findall(r"^(VERSION|PATCHLEVEL|SUBLEVEL)\s*=\s*(\d*)\s*$", text[:2000], re.M))
    if not fields.get("VERSION") or not fields.get("PATCHLEVEL") or not (root / "mm").is_dir():
        raise InputError(
            f"{root}: not a kernel tree (its Makefile declares no VERSION/PATCHLEVEL, or no mm/)"
        )
    return ".".join(x for x in (fields["VERSION"], fields["PATCHLEVEL"], fields.get("SUBLEVEL", "")) if x)


def local_tree(root: str | Path) -> Tree:
    """A tree the user names: checked to be a kernel tree, its release read from its Makefile."""
    p = Path(root)
    return Tree(p, release_of(p), str(p))


def cached_tree(series: str, cache: Path | None = None) -> Path | None:
    """The unpacked linux-source tree of `series` in the cache, or None if it is not there."""
    dest = (cache or default_cache_dir()) / series
    root = dest / f"linux-source-{series}"
    return root if (dest / ".complete").is_file() and root.is_dir() else None


def debian_tree(series: str, cache: Path | None = None, log: Callable[[str], None] = lambda _: None) -> Tree:
    """Debian's linux-source-`series`, downloaded and unpacked into the cache the first time."""
    check_series(series)
    cache = cache or default_cache_dir()
    dest = cache / series
    root = cached_tree(series, cache)
    if root is None:
        deb = _download(series, dest, cache, log)
        root = _unpack(series, deb, dest, log)
    return Tree(root, release_of(root), f"Debian {_package_of(dest, series)}")


def _package_of(dest: Path, series: str) -> str:
    """'linux-source-6.12 6.12.118-1~deb12u1', from the .deb the tree was unpacked from."""
    debs = sorted(dest.glob(f"linux-source-{series}_*.deb"))
    if not debs:
        return f"linux-source-{series}"
    version = debs[-1].name.split("_")[1]
    return f"linux-source-{series} {version}"


def _download(series: str, dest: Path, cache: Path, log: Callable[[str], None]) -> Path:
    """The package's .deb in `dest`: from the system's apt sources, else from Debian unstable."""
    package = f"linux-source-{series}"
    dest.mkdir(parents=True, exist_ok=True)
    if debs := sorted(dest.glob(f"{package}_*.deb")):
        return debs[-1]
    if shutil.which("apt-get") is None:
        raise SourceUnavailable(f"no apt-get here to download {package} (give --kernel-tree DIR instead)")
    why = ""
    for step in ("", "update", "unstable"):
        opts = _unstable(cache, log) if step == "unstable" else []
        if step == "update":
            log("apt-get update")
            subprocess.run(["apt-get", "update", "-qq"], capture_output=True, text=True)
        log(f"apt-get download {package}" + (" (Debian unstable)" if step == "unstable" else ""))
        r = subprocess.run(
            ["apt-get", *opts, "download", "-qq", package], cwd=dest, capture_output=True, text=True
        )
        if debs := sorted(dest.glob(f"{package}_*.deb")):
            return debs[-1]
        why = _last_line(r.stderr)
    if "Unable to locate" in why or "has no installation candidate" in why:
        raise InputError(f"--kernel {series}: Debian has no package {package}")
    raise SourceUnavailable(f"apt-get download {package} failed: {why}")


def _unstable(cache: Path, log: Callable[[str], None]) -> list[str]:
    """apt-get options reading Debian unstable's lists from a private folder of the cache."""
    apt = cache / "apt-unstable"
    (apt / "lists" / "partial").mkdir(parents=True, exist_ok=True)
    (apt / "cache" / "archives" / "partial").mkdir(parents=True, exist_ok=True)
    sources = apt / "sources.list"
    if not sources.is_file():
        sources.write_text(UNSTABLE + "\n")
    opts = [
        "-o",
        f"Dir::Etc::SourceList={sources}",
        "-o",
        "Dir::Etc::SourceParts=/dev/null",
        "-o",
        f"Dir::State::Lists={apt / 'lists'}",
        "-o",
        f"Dir::Cache={apt / 'cache'}",
    ]
    if not [p for p in (apt / "lists").iterdir() if p.name != "partial"]:
        log("apt-get update (Debian unstable)")
        subprocess.run(["apt-get", *opts, "update", "-qq"], capture_output=True, text=True)
    return opts


def _unpack(series: str, deb: Path, dest: Path, log: Callable[[str], None]) -> Path:
    """Unpack the tarball inside the .deb into `dest` (never installed), then mark it complete."""
    log(f"unpacking {deb.name}")
    root = dest / f"linux-source-{series}"
    shutil.rmtree(root, ignore_errors=True)
    member = f"./usr/src/linux-source-{series}.tar.xz"
    with tempfile.TemporaryDirectory(prefix="unpack-", dir=dest) as tmp:
        deb_tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE)
        inner = subprocess.Popen(["tar", "-x", "-O", member], stdin=deb_tar.stdout, stdout=subprocess.PIPE)
        assert deb_tar.stdout is not None
        deb_tar.stdout.close()
        r = subprocess.run(["tar", "-xJ", "-C", tmp], stdin=inner.stdout, capture_output=True, text=True)
        assert inner.stdout is not None
        inner.stdout.close()
        inner.wait()
        deb_tar.wait()
        got = Path(tmp) / f"linux-source-{series}"
        if r.returncode != 0 or inner.returncode != 0 or not got.is_dir():
            raise SourceUnavailable(f"unpacking {deb.name} failed: {_last_line(r.stderr)}")
        got.rename(root)
    (dest / ".complete").touch()
    return root


def _last_line(text: str) -> str:
    """The last line of a command's output, where apt and tar say what went wrong."""
    return (text.strip().splitlines() or ["no output"])[-1]
