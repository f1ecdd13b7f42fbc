"""What a conformance run needs on the host: Debian packages, and stock kernels unpacked from their .deb."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# busybox-static and ndctl/daxctl go into the guest; kmod's depmod indexes the unpacked modules
PACKAGES = ("qemu-system-x86", "busybox-static", "ndctl", "daxctl", "kmod", "xz-utils", "cpio")
TOOLS = {
    "qemu-system-x86_64": "qemu-system-x86",
    "busybox": "busybox-static",
    "ndctl": "ndctl",
    "daxctl": "daxctl",
    "depmod": "kmod",
    "xz": "xz-utils",
    "cpio": "cpio",
}
SYSTEM_SOURCES = Path("/etc/apt/sources.list.d/debian.sources")
# the Debian suite whose linux-image-amd64 meta package points at each kernel series
SUITES = {"6.1": "bookworm", "6.12": "bookworm-backports"}


class Unavailable(Exception):
    """This machine cannot run the guests; the message says why (exit 3)."""


@dataclass(frozen=True)
class Kernel:
    """A stock kernel unpacked under the cache: its series, its `uname -r` and its root folder."""

    series: str
    release: str
    root: Path

    @property
    def vmlinuz(self) -> Path:
        """The kernel image QEMU boots."""
        return self.root / "boot" / f"vmlinuz-{self.release}"


def default_cache_dir() -> Path:
    """~/.cache/mhpcheck/conform, or under $XDG_CACHE_HOME when set."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mhpcheck" / "conform"


def missing_tools() -> list[str]:
    """The host tools not on PATH."""
    return [t for t in TOOLS if shutil.which(t) is None]


def ensure_packages(install: bool, log: Callable[[str], None]) -> None:
    """Install the Debian packages whose tools are missing, or raise Unavailable saying why not."""
    missing = missing_tools()
    if not missing:
        return
    packages = sorted({TOOLS[t] for t in missing})
    if not install:
        raise Unavailable(f"{', '.join(missing)} not found; apt-get install {' '.join(packages)}")
    if shutil.which("apt-get") is None:
        raise Unavailable(
            f"{', '.join(missing)} not found, and this is not a Debian-like system (no apt-get)"
        )
    if os.geteuid() != 0:
        raise Unavailable(f"{', '.join(missing)} not found; as root: apt-get install {' '.join(packages)}")
    log(f"apt-get install {' '.join(packages)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
    ):
        r = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if r.returncode != 0:
            raise Unavailable(f"{' '.join(cmd[:2])} failed: {last_line(r.stderr)}")
    if still := missing_tools():
        raise Unavailable(f"{', '.join(still)} still not found after apt-get install")


def kernel(series: str, cache: Path, log: Callable[[str], None]) -> Kernel:
    """The kernel of this series unpacked in the cache, downloaded and unpacked first if absent."""
    kdir = cache / "kernels"
    for done in sorted(kdir.glob(f"*/{series}.ready")):
        release = done.read_text().strip()
        return Kernel(series, release, done.parent)
    with tempfile.TemporaryDirectory(prefix="apt-", dir=_mkdir(cache)) as tmp:
        opts = _apt_options(series, Path(tmp), log)
        package = _resolve(opts)
        release = package.removeprefix("linux-image-")
        log(f"apt-get download {package}")
        r = subprocess.run(["apt-get", *opts, "download", package], cwd=tmp, capture_output=True, text=True)
        debs = list(Path(tmp).glob("linux-image-*.deb"))
        if r.returncode != 0 or not debs:
            raise Unavailable(f"apt-get download {package} failed: {last_line(r.stderr)}")
        root = kdir / release
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        # only unpacked, never installed: no maintainer scripts run, the host's /boot stays as it is
        _run(["dpkg-deb", "-x", str(debs[0]), str(root)])
    _run(["depmod", "-b", str(root), release])  # the .deb ships no modules.dep
    (root / f"{series}.ready").write_text(release + "\n")
    return Kernel(series, release, root)


def _apt_options(series: str, tmp: Path, log: Callable[[str], None]) -> list[str]:
    """apt-get options reaching the suite of this series; a private source list when it is not configured."""
    suite = SUITES[series]
    if suite == "bookworm":
        return []
    # Backports is not among the system's sources: a throw-away copy of them, same mirror, that suite
    # alone, with its own lists, so the system's apt configuration is never touched.
    try:
        text = SYSTEM_SOURCES.read_text()
    except OSError as e:
        raise Unavailable(f"{SYSTEM_SOURCES}: cannot read ({e.strerror}); needed to reach {suite}") from None
    stanzas = [s for s in text.split("\n\n") if re.search(r"^Suites:.*\bbookworm\b", s, re.M)]
    if not stanzas:
        raise Unavailable(f"{SYSTEM_SOURCES} names no bookworm suite to derive {suite} from")
    parts = tmp / "parts"
    lists = tmp / "lists"
    (lists / "partial").mkdir(parents=True)
    parts.mkdir()
    (parts / "conform.sources").write_text(re.sub(r"(?m)^Suites:.*$", f"Suites: {suite}", stanzas[0]) + "\n")
    opts = [
        "-o",
        "Dir::Etc::SourceList=/dev/null",
        "-o",
        f"Dir::Etc::SourceParts={parts}",
        "-o",
        f"Dir::State::Lists={lists}",
    ]
    log(f"apt-get update ({suite})")
    r = subprocess.run(["apt-get", *opts, "update", "-qq"], capture_output=True, text=True)
    if r.returncode != 0:
        raise Unavailable(f"apt-get update for {suite} failed: {last_line(r.stderr)}")
    return opts


def _resolve(opts: list[str]) -> str:
    """The linux-image-<release> package that linux-image-amd64 depends on in that suite."""
    r = subprocess.run(["apt-cache", *opts, "depends", "linux-image-amd64"], capture_output=True, text=True)
    m = re.search(r"Depends: (linux-image-\d\S*)", r.stdout)
    if m is None and not opts:
        # the system's lists may not have been fetched yet on a fresh machine
        subprocess.run(["apt-get", "update", "-qq"], capture_output=True)
        r = subprocess.run(["apt-cache", "depends", "linux-image-amd64"], capture_output=True, text=True)
        m = re.search(r"Depends: (linux-image-\d\S*)", r.stdout)
    if m is None:
        raise Unavailable(f"no linux-image-amd64 in the apt lists: {last_line(r.stderr)}")
    return m.group(1)


def _mkdir(p: Path) -> Path:
    """`p`, created with its parents if missing."""
    p.mkdir(parents=True, exist_ok=True)
    return p


def _run(cmd: list[str]) -> None:
    """Run a setup command; Unavailable with its last line of stderr if it fails."""
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise Unavailable(f"{' '.join(cmd[:2])} failed: {last_line(r.stderr)}")


def last_line(text: str) -> str:
    """The last line of a command's output, which is where apt and dpkg say what went wrong."""
    return (text.strip().splitlines() or ["no output"])[-1]
