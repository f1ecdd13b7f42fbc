"""A cache of judged cell results, keyed by the model's source, the cell's settings and the tool version.

Entries are plain JSON, signed with a key of the user's own: reading one never runs code, and an
entry mhpcheck did not write for that very key is never trusted.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import stat
from dataclasses import asdict
from functools import cache
from pathlib import Path
from typing import Any

from mhpcheck import __version__, codec, patching
from mhpcheck.codec import Judged
from mhpcheck.core import outputs
from mhpcheck.core.errors import InputError
from mhpcheck.core.inputs import parse_json, read_bytes
from mhpcheck.engines.cell import CellRequest

PACKAGE = Path(__file__).resolve().parent


@cache
def source_fingerprint() -> str:
    """sha256 over every .py file the checker runs: the engine, and model/ and properties/ through
    their symlinks, so that any change to the semantics misses the cache."""
    h = hashlib.sha256()
    files: set[tuple[str, Path]] = set()
    for sub in ("", "model", "properties"):
        root = PACKAGE / sub if sub else PACKAGE
        real = root.resolve()
        for f in real.rglob("*.py"):
            files.add((f"{sub}/{f.relative_to(real)}", f))
    for rel, f in sorted(files):
        h.update(rel.encode())
        h.update(b"\0")
        h.update(f.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def cell_key(req: CellRequest, patch_text: str | None, untouched_by: str | None = None) -> str | None:
    """The cache key of one cell's request, or None when its result is not reproducible;
    `untouched_by` makes the key of a patched cell in which none of the patch's replacements ran:
    the patch's outline in place of its text (untouched_key())."""
    if req.time_budget is not None:
        return None  # what a time budget cuts depends on the machine's speed, not on the inputs
    settings = {
        "arch": req.arch,
        "variant": req.variant,
        "properties": list(req.properties),
        "bounds": asdict(req.bounds),
        "max_states": req.max_states,
        "symmetry": req.symmetry,
        "patch": patch_text,
        "engine": req.engine,
        "walks": list(req.walks) if req.engine == "simulation" else None,
    }
    if untouched_by is not None:
        settings["untouched_by"] = untouched_by
    h = hashlib.sha256()
    h.update(f"mhpcheck {__version__}\0{source_fingerprint()}\0".encode())
    h.update(json.dumps(settings, sort_keys=True).encode())
    return h.hexdigest()


def untouched_key(req: CellRequest, patch_text: str) -> str | None:
    """The key under which a patched cell's result is kept when none of the patch's replacements
    ran in it: the patch file's outline (patching.outline()) stands for its text, so that editing
    a replacement's body re-checks only the cells that reach it. None if there is no outline."""
    shape = patching.outline(patch_text)
    if shape is None:
        return None
    return cell_key(req, None, untouched_by=shape)


FORMAT = "mhpcheck-cache"
FORMAT_VERSION = 1
MAX_ENTRY_BYTES = 64 << 20  # a cell's results with every counterexample's steps: well under 1 MiB
SUFFIX = ".json"


def secret_path() -> Path:
    """Where the key that signs cache entries lives: the user's own cache folder, not the cache."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mhpcheck" / "cache.key"


def secret() -> bytes | None:
    """This user's key for signing cache entries, made on first use (0600, in a 0700 folder);
    None when there is none to trust (not ours, readable by others, not a regular file), and then
    nothing is cached: an entry nobody can vouch for is never used."""
    try:
        path = secret_path()
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32) + "\n")
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
                return None
            key = f.read(1024).strip()
    except (OSError, RuntimeError):  # RuntimeError: no home folder
        return None
    return key if len(key) >= 32 else None


def _mac(key: bytes, cell_key: str, payload: bytes) -> str:
    return hmac.new(key, f"{FORMAT} {FORMAT_VERSION} {cell_key}\0".encode() + payload, "sha256").hexdigest()


class CellCache:
    """One JSON file per cell under `root`, holding its key, its results and a checksum (an HMAC
    under the user's key, secret()). Only what mhpcheck wrote for exactly this key is used: a
    missing, corrupt, forged or foreign entry (or a folder in its place) is a miss, and the cell
    is checked again. Nothing in an entry is code: it is data, decoded by mhpcheck.codec."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.key = secret()
        outputs.clean_stale(root)  # what a killed run was writing

    def _path(self, key: str) -> Path:
        return self.root / f"{key}{SUFFIX}"

    def get(self, key: str) -> Judged | None:
        if self.key is None:
            return None
        try:
            raw = read_bytes(self._path(key), MAX_ENTRY_BYTES, "a cache entry")
            doc = parse_json(raw.decode("utf-8"), str(self._path(key)))
            if not isinstance(doc, dict) or set(doc) != {"format", "version", "key", "mac", "value"}:
                return None
            if (doc["format"], doc["version"], doc["key"]) != (FORMAT, FORMAT_VERSION, key):
                return None
            payload = _canonical(doc["value"])
            if not isinstance(doc["mac"], str) or not hmac.compare_digest(
                doc["mac"], _mac(self.key, key, payload)
            ):
                return None
            return codec.decode_judged(doc["value"])
        except (InputError, UnicodeDecodeError, KeyError, TypeError, ValueError):
            return None  # absent, unreadable or not ours: checked again, and replaced

    def put(self, key: str, value: Judged) -> None:
        if self.key is None:
            return
        try:
            encoded = codec.encode_judged(value)
            payload = _canonical(encoded)
            doc = {
                "format": FORMAT,
                "version": FORMAT_VERSION,
                "key": key,
                "mac": _mac(self.key, key, payload),
            }
            self.root.mkdir(parents=True, exist_ok=True)
            outputs.write_atomic(self._path(key), json.dumps({**doc, "value": encoded}) + "\n")
        except (OSError, TypeError, ValueError):
            pass  # a cache that cannot be written only costs time


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
