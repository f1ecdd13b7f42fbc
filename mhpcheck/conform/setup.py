"""What a conformance run needs on the host: Debian packages, stock kernels unpacked from their
.deb, and for arm64 guests the arm64 userland, all fetched through private apt configurations."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from mhpcheck.conform.scenarios import SOURCES, KernelSource

# The host tools each guest arch needs, and the Debian package that brings each one. x86_64
# guests take busybox, ndctl and daxctl from the host; arm64 guests take them from arm64 .debs.
TOOLS: dict[str, dict[str, str]] = {
    "x86_64": {
        "qemu-system-x86_64": "qemu-system-x86",
        "busybox": "busybox-static",
        "ndctl": "ndctl",
        "daxctl": "daxctl",
        "depmod": "kmod",
        "xz": "xz-utils",
        "zstd": "zstd",
        "cpio": "cpio",
    },
    "arm64": {
        "qemu-system-aarch64": "qemu-system-arm",
        "/usr/share/AAVMF/AAVMF_CODE.fd": "qemu-efi-aarch64",
        "depmod": "kmod",
        "xz": "xz-utils",
        "zstd": "zstd",
        "cpio": "cpio",
        "readelf": "binutils",
        # the guest's mtouch (mmap and touch a devdax device) is built for aarch64 here
        "aarch64-linux-gnu-gcc": "gcc-aarch64-linux-gnu",
        "/usr/aarch64-linux-gnu/lib/libc.a": "libc6-dev-arm64-cross",
    },
    # building arm64 kernels from Debian's source (the pre-fix kernel of a finding)
    "build": {
        "make": "make",
        "gcc": "gcc",
        "flex": "flex",
        "bison": "bison",
        "bc": "bc",
        "/usr/include/libelf.h": "libelf-dev",
        "/usr/include/openssl/ssl.h": "libssl-dev",
        "aarch64-linux-gnu-gcc": "gcc-aarch64-linux-gnu",
    },
}
PACKAGES = tuple(sorted({p for tools in TOOLS.values() for p in tools.values()}))
SYSTEM_SOURCES = Path("/etc/apt/sources.list.d/debian.sources")
# The arm64 guest's userland: busybox, ndctl and daxctl with every library they load (bookworm)
ARM64_USERLAND = (
    "busybox-static",
    "ndctl",
    "daxctl",
    "libndctl6",
    "libdaxctl1",
    "libkmod2",
    "libuuid1",
    "libjson-c5",
    "libc6",
    "libudev1",
    "libkeyutils1",
    "libiniparser1",
    "libzstd1",
    "liblzma5",
    "libssl3",
)


class Unavailable(Exception):
    """This machine cannot run the guests; the message says why (exit 3)."""


@dataclass(frozen=True)
class Kernel:
    """A kernel unpacked (or built) under the cache: its arch and series, its `uname -r`, its root."""

    series: str
    release: str
    root: Path
    arch: str = "x86_64"

    @property
    def vmlinuz(self) -> Path:
        """The kernel image QEMU boots: boot/vmlinuz-R (up to 6.x), usr/lib/modules/R/vmlinuz (7.x's
        split packages), or a built Image."""
        for p in (
            self.root / "boot" / f"vmlinuz-{self.release}",
            self.modules / "vmlinuz",
            self.root / "Image",
        ):
            if p.exists():
                return p
        return self.root / "boot" / f"vmlinuz-{self.release}"

    @property
    def modules(self) -> Path:
        """lib/modules/R, or usr/lib/modules/R where the package puts it."""
        usr = self.root / "usr" / "lib" / "modules" / self.release
        return usr if usr.is_dir() else self.root / "lib" / "modules" / self.release

    @property
    def config(self) -> Path:
        """The kernel's .config as the package ships it."""
        for p in (self.root / "boot" / f"config-{self.release}", self.modules / "config"):
            if p.exists():
                return p
        return self.root / "config"

    def configured(self, option: str) -> bool | None:
        """Whether CONFIG_<option> is y or m; None when the package ships no config."""
        try:
            text = self.config.read_text(errors="replace")
        except OSError:
            return None
        return re.search(rf"^CONFIG_{option}=[ym]$", text, re.M) is not None

    def changelog(self) -> str:
        """The Debian changelog the package ships (uncompressed), or "" when it has none."""
        import gzip

        out = []
        for p in sorted((self.root / "usr" / "share" / "doc").glob("*/changelog*.gz")):
            try:
                out.append(gzip.decompress(p.read_bytes()).decode(errors="replace"))
            except (OSError, EOFError):
                continue
        return "\n".join(out)


def default_cache_dir() -> Path:
    """~/.cache/mhpcheck/conform, or under $XDG_CACHE_HOME when set."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mhpcheck" / "conform"


def debian_arch(arch: str) -> str:
    """The Debian architecture of a model arch: amd64 for x86_64, arm64 for arm64-4k/16k."""
    return "amd64" if arch == "x86_64" else "arm64"


def missing_tools(kinds: Sequence[str]) -> list[str]:
    """The host tools (commands on PATH, or files) missing for these kinds of guest."""
    out = []
    for kind in kinds:
        for t in TOOLS[kind]:
            found = Path(t).exists() if t.startswith("/") else shutil.which(t) is not None
            if not found and t not in out:
                out.append(t)
    return out


def ensure_packages(install: bool, log: Callable[[str], None], kinds: Sequence[str] = ("x86_64",)) -> None:
    """Install the Debian packages whose tools are missing, or raise Unavailable saying why not."""
    missing = missing_tools(kinds)
    if not missing:
        return
    owner = {t: p for kind in kinds for t, p in TOOLS[kind].items()}
    packages = sorted({owner[t] for t in missing})
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
    if still := missing_tools(kinds):
        raise Unavailable(f"{', '.join(still)} still not found after apt-get install")


def _marker(arch: str, series: str) -> str:
    """The name of the file that says a kernel is unpacked (x86_64 keeps its first name)."""
    return f"{series}.ready" if arch == "x86_64" else f"{arch}-{series}.ready"


def cached_kernel(arch: str, series: str, cache: Path) -> Kernel | None:
    """The kernel of this arch and series if it is already in the cache."""
    for done in sorted((cache / "kernels").glob(f"*/{_marker(arch, series)}")):
        return Kernel(series, done.read_text().strip(), done.parent, arch)
    return None


def kernel(series: str, cache: Path, log: Callable[[str], None], arch: str = "x86_64") -> Kernel:
    """The stock kernel of this arch and series unpacked in the cache, downloaded first if absent."""
    if (k := cached_kernel(arch, series, cache)) is not None:
        return k
    src = SOURCES[arch][series]
    apt = Apt(src.suite, debian_arch(arch), cache, log)
    package = apt.resolve(src.meta)
    release = package.removeprefix("linux-image-")
    # 7.x splits the image into linux-base/-binary/-modules, with linux-image-R a meta package
    parts = apt.depends(package, rf"linux-(?:base|binary|modules)-{re.escape(release)}")
    root = cache / "kernels" / release
    apt.unpack([package, *parts], root, fresh=True)
    if not Kernel(series, release, root, arch).vmlinuz.exists():
        raise Unavailable(f"{package} holds no kernel image")
    modules = Kernel(series, release, root, arch).modules
    if modules.is_dir() and not (modules / "modules.dep").exists():
        # the .deb ships no modules.dep
        _run(["depmod", "-b", str(modules.parent.parent.parent), release])
    (root / _marker(arch, series)).write_text(release + "\n")
    return Kernel(series, release, root, arch)


def arm64_userland(cache: Path, log: Callable[[str], None]) -> Path:
    """busybox, ndctl, daxctl and their libraries for arm64 guests, unpacked (never installed)."""
    root = cache / "userland" / "arm64"
    if (root / ".ready").exists():
        return root
    Apt("bookworm", "arm64", cache, log).unpack(list(ARM64_USERLAND), root, fresh=True)
    (root / ".ready").write_text("\n".join(ARM64_USERLAND) + "\n")
    return root


class Apt:
    """apt-get and apt-cache through a private configuration: one suite, one architecture, own lists,
    own cache and an empty dpkg status, so the machine's apt configuration is never touched. The
    mirror and key are those of the machine's own Debian sources."""

    def __init__(self, suite: str, arch: str, cache: Path, log: Callable[[str], None]) -> None:
        self.suite, self.arch, self.log = suite, arch, log
        self.dir = cache / "apt" / f"{suite}-{arch}"
        self.updated = False

    def options(self) -> list[str]:
        d = self.dir
        for sub in ("lists/partial", "cache/archives/partial", "parts"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        (d / "status").touch()
        (d / "parts" / "conform.sources").write_text(sources_for(self.suite, self.arch))
        return [
            "-o", f"APT::Architecture={self.arch}",
            "-o", f"APT::Architectures::={self.arch}",
            "-o", "Dir::Etc::SourceList=/dev/null",
            "-o", f"Dir::Etc::SourceParts={d / 'parts'}",
            "-o", "Dir::Etc::Preferences=/dev/null",
            "-o", f"Dir::Etc::PreferencesParts={d / 'parts'}",
            "-o", f"Dir::State::Lists={d / 'lists'}",
            "-o", f"Dir::Cache={d / 'cache'}",
            "-o", f"Dir::State::status={d / 'status'}",
            "-o", "Debug::NoLocking=1",
        ]  # fmt: skip

    def _update(self) -> list[str]:
        opts = self.options()
        if not self.updated:
            self.log(f"apt-get update ({self.suite}, {self.arch})")
            r = subprocess.run(["apt-get", *opts, "update", "-qq"], capture_output=True, text=True)
            if r.returncode != 0:
                raise Unavailable(
                    f"apt-get update for {self.suite} ({self.arch}) failed: {last_line(r.stderr)}"
                )
            self.updated = True
        return opts

    def depends(self, package: str, pattern: str) -> list[str]:
        """The packages `package` depends on whose names match `pattern`."""
        r = subprocess.run(["apt-cache", *self._update(), "depends", package], capture_output=True, text=True)
        return re.findall(rf"Depends: ({pattern})\s*$", r.stdout, re.M)

    def resolve(self, meta: str) -> str:
        """The linux-image-<release> package the meta package `meta` points at."""
        found = self.depends(meta, r"linux-image-\d\S*")
        if not found:
            raise Unavailable(f"no {meta} in {self.suite}'s package lists ({self.arch})")
        return found[0]

    def unpack(self, packages: list[str], root: Path, fresh: bool = False) -> None:
        """Download `packages` and unpack them into `root` with dpkg-deb -x: nothing is installed,
        no maintainer script runs."""
        opts = self._update()
        root.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="apt-", dir=root.parent) as tmp:
            self.log(f"apt-get download {' '.join(packages)}")
            r = subprocess.run(
                ["apt-get", *opts, "download", *packages], cwd=tmp, capture_output=True, text=True
            )
            debs = sorted(Path(tmp).glob("*.deb"))
            if r.returncode != 0 or len(debs) < len(packages):
                raise Unavailable(f"apt-get download {' '.join(packages)} failed: {last_line(r.stderr)}")
            if fresh:
                shutil.rmtree(root, ignore_errors=True)
            root.mkdir(parents=True, exist_ok=True)
            for deb in debs:
                _run(["dpkg-deb", "-x", str(deb), str(root)])


def sources_for(suite: str, arch: str) -> str:
    """A deb822 sources file for `suite` and `arch` on the machine's own Debian mirror: bookworm
    with its updates and security suites as the machine lists them, any other suite from the
    main archive."""
    try:
        text = SYSTEM_SOURCES.read_text()
    except OSError as e:
        raise Unavailable(f"{SYSTEM_SOURCES}: cannot read ({e.strerror}); needed to reach {suite}") from None
    stanzas = [s.strip() for s in text.split("\n\n") if re.search(r"^Suites:.*\bbookworm", s, re.M)]
    if not stanzas:
        raise Unavailable(f"{SYSTEM_SOURCES} names no bookworm suite to derive {suite} from")
    if suite != "bookworm":
        main = [s for s in stanzas if not re.search(r"^Suites:.*-security", s, re.M)] or stanzas
        stanzas = [re.sub(r"(?m)^Suites:.*$", f"Suites: {suite}", main[0])]
    out = []
    for s in stanzas:
        s = re.sub(r"(?m)^#.*\n?", "", s)
        s = re.sub(r"(?m)^Architectures:.*\n?", "", s)
        out.append(f"{s}\nArchitectures: {arch}\n")
    return "\n".join(out)


def _run(cmd: list[str]) -> None:
    """Run a setup command; Unavailable with its last line of stderr if it fails."""
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise Unavailable(f"{' '.join(cmd[:2])} failed: {last_line(r.stderr)}")


def last_line(text: str) -> str:
    """The last line of a command's output, which is where apt and dpkg say what went wrong."""
    return (text.strip().splitlines() or ["no output"])[-1]


__all__ = ["Apt", "Kernel", "KernelSource", "Unavailable"]
