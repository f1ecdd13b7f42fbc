"""Files mhpcheck writes: reports, traces, cache entries, crash files.

A regular file is replaced atomically: the data goes to a hidden temporary file beside it,
`.<name>.mhpcheck-<pid>-<random>`, renamed over the target once complete, so that a reader sees
the old file or the new one, never half. A symbolic link is followed (the file it names is
replaced, the link stays). A character device or a FIFO (/dev/null, a terminal, a pipe) is
written to, never replaced; /dev/stdout or any other name of mhpcheck's own stdout is stdout,
as is "-". A block device, a socket, a folder or a dangling link is refused in one line.

A temporary file whose writer was killed stays behind; `clean_stale()` removes those whose
process no longer runs, and every writer calls it on its folder before writing there.
"""

from __future__ import annotations

import os
import re
import stat
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mhpcheck.core.errors import InputError
from mhpcheck.core.inputs import file_kind

STDOUT = "stdout"
STDERR = "stderr"
FILE = "file"  # a regular file, replaced atomically
STREAM = "stream"  # a character device or a FIFO, written to in place

_TEMP = re.compile(r"^\..+\.mhpcheck-(\d+)-[A-Za-z0-9_]+$")


def temp_prefix(name: str) -> str:
    """The prefix of the temporary files that stand for `name` while it is written."""
    return f".{name}.mhpcheck-{os.getpid()}-"


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it runs, as another user
        return True
    return True


def clean_stale(folder: Path) -> int:
    """Remove the temporary files in `folder` that a killed writer left; how many were removed."""
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        m = _TEMP.match(entry.name)
        if m is None or int(m.group(1)) == os.getpid() or _running(int(m.group(1))):
            continue
        try:
            if entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
                removed += 1
        except OSError:
            continue
    return removed


def _mode_for(path: Path) -> int:
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        umask = os.umask(0o22)
        os.umask(umask)
        return 0o666 & ~umask


def write_atomic(path: Path, data: str | bytes) -> None:
    """Replace the regular file `path` (or create it) with `data`, atomically."""
    clean_stale(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(path.name), dir=path.parent)
    try:
        os.fchmod(fd, _mode_for(path))
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def writable_folder(folder: Path) -> str | None:
    """Why no file can be created in `folder`, or None: tried, not guessed from permission bits
    (root passes every permission check, yet cannot write /proc or a read-only mount)."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            return None
    except OSError as e:
        return e.strerror or str(e)


@dataclass(frozen=True)
class Target:
    """Where a report goes, decided before any work: its kind and the path to write."""

    kind: str  # STDOUT, STDERR, FILE or STREAM
    path: Path


def _same_as(st: os.stat_result, fd: int) -> bool:
    try:
        return os.path.samestat(st, os.fstat(fd))
    except OSError:
        return False


def _through_fd_link(path: Path) -> bool:
    """Whether `path` is, or links through, a name of an open file (/proc/<pid>/fd/N, /dev/fd/N):
    that file is the user's stream, not a file to replace."""
    p = str(path)
    for _ in range(40):
        if p.startswith(("/proc/", "/dev/fd/")):
            return True
        try:
            link = os.readlink(p)
        except OSError:
            return False
        p = os.path.join(os.path.dirname(p), link)
    return False


def target(name: str, option: str) -> Target:
    """Where `option NAME` writes, or InputError in one line if nothing can be written there."""
    if name == "-":
        return Target(STDOUT, Path("/dev/stdout"))
    path = Path(name)
    where = f"{option} {name}"
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if path.is_symlink():
            raise InputError(f"{where}: a dangling symbolic link (to {os.readlink(path)})") from None
        folder = path.parent
        if not folder.is_dir():
            raise InputError(f"{where}: folder {folder} does not exist") from None
        why = writable_folder(folder)
        if why is not None:
            raise InputError(f"{where}: folder {folder} is not writable ({why})") from None
        return Target(FILE, path)
    except OSError as e:
        raise InputError(f"{where}: cannot write: {e.strerror or e}") from None
    if _same_as(st, 1):
        return Target(STDOUT, path)
    if _same_as(st, 2):
        return Target(STDERR, path)
    if stat.S_ISREG(st.st_mode):
        if _through_fd_link(path):
            return Target(STREAM, path)
        real = Path(os.path.realpath(path))
        why = writable_folder(real.parent)
        if why is not None:
            raise InputError(f"{where}: folder {real.parent} is not writable ({why})")
        return Target(FILE, real)
    if stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode):
        if not os.access(path, os.W_OK):
            raise InputError(f"{where}: not writable")
        return Target(STREAM, path)
    raise InputError(
        f"{where}: {file_kind(st.st_mode)}; a report goes to a regular file, a character device "
        "or a FIFO, never replacing anything else"
    )


def write_to(t: Target, data: str) -> None:
    """Write `data` where `t` says: a regular file atomically, a device or FIFO in place (opened
    without creating or truncating anything else). OSError if the write fails."""
    if t.kind == FILE:
        write_atomic(t.path, data)
        return
    if t.kind in (STDOUT, STDERR):
        stream = sys.stdout if t.kind == STDOUT else sys.stderr
        stream.write(data)
        stream.flush()
        return
    fd = os.open(t.path, os.O_WRONLY | os.O_NOCTTY | os.O_CLOEXEC | os.O_APPEND)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(data)
