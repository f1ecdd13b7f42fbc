"""A cache of judged cell results, keyed by the model's source, the cell's settings and the tool version."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import tempfile
from dataclasses import asdict
from functools import cache
from pathlib import Path
from typing import Any

from mhpcheck import __version__
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


def cell_key(req: CellRequest, patch_text: str | None) -> str | None:
    """The cache key of one cell's request, or None when its result is not reproducible."""
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
    h = hashlib.sha256()
    h.update(f"mhpcheck {__version__}\0{source_fingerprint()}\0".encode())
    h.update(json.dumps(settings, sort_keys=True).encode())
    return h.hexdigest()


class CellCache:
    """One pickle per cell under `root`; a missing, corrupt or unreadable entry is a miss."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / f"{key}.pickle"

    def get(self, key: str) -> Any | None:
        path = self._path(key)
        try:
            with path.open("rb") as f:
                return pickle.load(f)
        except FileNotFoundError:
            return None
        except Exception:  # a truncated or foreign file: drop it and recompute
            path.unlink(missing_ok=True)
            return None

    def put(self, key: str, value: Any) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{key}.", dir=self.root)
            with os.fdopen(fd, "wb") as f:
                pickle.dump(value, f, protocol=5)
            os.replace(tmp, self._path(key))
        except OSError:
            pass  # a cache that cannot be written only costs time
