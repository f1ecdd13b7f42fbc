"""Review of a C patch: which functions it changes, which of them the model follows, their scaffolds.

The patch is a unified (git) diff against a base tree. It is applied in memory, never to the
tree; or, given a tree with the change already in it, the patch is the difference between that
tree and the base tree over the folders the model reads. Each function a hunk touches, on
either side, is a modelled function when the base era's provenance records it at that path and
name, else "not modelled".
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mhpcheck.core.errors import InputError
from mhpcheck.review import csource
from mhpcheck.review.csource import FunctionDef
from mhpcheck.review.provenance import (
    SEARCH_DIRS,
    Data,
    ModelFunction,
    choose,
    live,
    model_functions,
)

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def _path(header: str) -> str | None:
    """A ---/+++ path without its a/ or b/ prefix, or None for /dev/null."""
    path = header.split("\t")[0].strip().strip('"')
    if path == "/dev/null":
        return None
    return path[2:] if path[:2] in ("a/", "b/") else path


def apply_patch(patch: str, read: Callable[[str], str | None]) -> dict[str, str | None]:
    """The files a patch changes, as their text after it (None: deleted); InputError if it does not apply."""
    out: dict[str, str | None] = {}
    lines = [line.removesuffix("\r") for line in patch.split("\n")]
    i, n, files = 0, len(lines), 0
    while i < n:
        if not (lines[i].startswith("--- ") and i + 1 < n and lines[i + 1].startswith("+++ ")):
            i += 1
            continue
        old_path, new_path = _path(lines[i][4:]), _path(lines[i + 1][4:])
        i += 2
        files += 1
        if old_path is None:
            base = ""
        else:
            text = out[old_path] if old_path in out else read(old_path)
            if text is None:
                raise InputError(f"the patch changes {old_path}, which the base tree does not have")
            base = text
        old = base.split("\n") if base else []
        new: list[str] = []
        at = 0  # the next old line (0-based) not yet copied
        while i < n and lines[i].startswith("@@"):
            m = _HUNK.match(lines[i])
            if m is None:
                raise InputError(f"bad hunk header in the patch: {lines[i]!r}")
            n_old = int(m[2]) if m[2] is not None else 1
            n_new = int(m[4]) if m[4] is not None else 1
            start = int(m[1]) - 1 if n_old else int(m[1])
            if start < at:
                raise InputError(f"the patch's hunks for {old_path} overlap or are out of order")
            new += old[at:start]
            at = start
            i += 1
            while i < n and (n_old > 0 or n_new > 0):
                tag, text = lines[i][:1] or " ", lines[i][1:]
                if tag in (" ", "-"):
                    if at >= len(old) or old[at] != text:
                        where = old_path or new_path
                        raise InputError(
                            f"the patch does not apply to {where}: line {at + 1} is not {text.strip()!r}"
                        )
                    if tag == " ":
                        new.append(text)
                        n_new -= 1
                    at, n_old = at + 1, n_old - 1
                elif tag == "+":
                    new.append(text)
                    n_new -= 1
                elif tag != "\\":
                    break
                i += 1
            while i < n and lines[i].startswith("\\"):
                i += 1
        new += old[at:]
        if new_path is None:
            assert old_path is not None
            out[old_path] = None
        else:
            out[new_path] = "\n".join(new)
    if not files:
        raise InputError("the patch holds no unified diff (no ---/+++ lines)")
    return out


def tree_diff(base: Path, changed: Path, dirs: tuple[str, ...] = SEARCH_DIRS) -> str:
    """A unified diff of the C files that differ between two trees, over the model's folders and arch/*/mm."""
    rels: set[str] = set()
    folders = [*dirs, *(f"arch/{a}/mm" for a in ("x86", "powerpc", "arm64"))]
    for root in (base, changed):
        for d in folders:
            pattern = "**/*.[ch]" if d.startswith("arch/") else "*.[ch]"
            rels.update(str(p.relative_to(root)) for p in (root / d).glob(pattern) if p.is_file())
    parts: list[str] = []
    for rel in sorted(rels):
        a, b = base / rel, changed / rel
        ta = a.read_bytes() if a.is_file() else None
        tb = b.read_bytes() if b.is_file() else None
        if ta == tb:
            continue
        old = ta.decode("utf-8", "surrogateescape").splitlines(keepends=True) if ta is not None else []
        new = tb.decode("utf-8", "surrogateescape").splitlines(keepends=True) if tb is not None else []
        la = f"a/{rel}" if ta is not None else "/dev/null"
        lb = f"b/{rel}" if tb is not None else "/dev/null"
        body = "".join(
            line if line.endswith("\n") else line + "\n" for line in difflib.unified_diff(old, new, la, lb)
        )
        parts.append(body)
    return "".join(parts)


@dataclass(frozen=True)
class Touched:
    """A function the patch touches: before and after (None where it does not exist on that side)."""

    path: str
    name: str
    before: FunctionDef | None
    after: FunctionDef | None
    model: ModelFunction | None = None

    @property
    def c_diff(self) -> str:
        if self.before is not None and self.after is not None:
            return csource.unified_diff(
                self.before, self.after, f"a/{self.before.path}", f"b/{self.after.path}"
            )
        only = self.before or self.after
        assert only is not None
        sign, label = ("-", "removed") if self.after is None else ("+", "added")
        return f"({label} by the patch)\n" + "".join(
            f"{sign}{line}\n" for line in only.text.rstrip("\n").split("\n")
        )


@dataclass(frozen=True)
class Review:
    """What a patch changes: the functions the model follows, and those it does not."""

    era: str
    modelled: tuple[Touched, ...]
    not_modelled: tuple[Touched, ...]
    outside: tuple[str, ...]  # "file: lines" changed outside any function


def review(patch: str, read_before: Callable[[str], str | None], era: str, data: Data) -> Review:
    """Map `patch` (against the tree `read_before` reads) onto functions, modelled or not."""
    after_files = apply_patch(patch, read_before)

    def read_after(rel: str) -> str | None:
        return after_files[rel] if rel in after_files else read_before(rel)

    pre = csource.map_patch(patch, read_before, "pre")
    post = csource.map_patch(patch, read_after, "post")
    pairs: dict[tuple[str, str], None] = {}
    for t in (*pre.functions, *post.functions):
        if t.definition.kind == "function":
            pairs[(t.path, t.name)] = None
    by_location = _modelled_at(era, data)
    parsed: dict[tuple[str, bool], csource.ParsedFile | None] = {}

    def definition(
        path: str, name: str, after: bool, conditions: tuple[str, ...] | None
    ) -> FunctionDef | None:
        key = (path, after)
        if key not in parsed:
            text = (read_after if after else read_before)(path)
            parsed[key] = csource.parse_source(text, path) if text is not None else None
        pf = parsed[key]
        found = choose(list(pf.find(name)), conditions) if pf is not None else None
        return found if isinstance(found, FunctionDef) else None

    modelled: list[Touched] = []
    not_modelled: list[Touched] = []
    for path, name in pairs:
        fn = by_location.get((path, name))
        conditions = None
        if fn is not None:
            conditions = data[fn.key].eras[era].conditions or None
        before = definition(path, name, False, conditions)
        after = definition(path, name, True, conditions if before is None else before.conditions)
        if before is not None and after is not None and before.fingerprint == after.fingerprint:
            continue  # a comment or whitespace edit: the C is the same
        either = before or after
        if fn is not None and either is not None and live(either.conditions) is not False:
            modelled.append(Touched(path, name, before, after, fn))
        else:
            not_modelled.append(Touched(path, name, before, after))
    outside = tuple(
        f"{h.path}: lines {', '.join(str(n) for n in h.outside_lines)}"
        for h in pre.hunks
        if h.outside_lines and h.path is not None
    )
    return Review(era, tuple(modelled), tuple(not_modelled), outside)


def _modelled_at(era: str, data: Data) -> dict[tuple[str, str], ModelFunction]:
    """(path, C name) -> model function, for every function the era's provenance records."""
    out: dict[tuple[str, str], ModelFunction] = {}
    for fn in model_functions():
        rec = data.get(fn.key)
        if rec is not None and era in rec.eras:
            e = rec.eras[era]
            out.setdefault((e.path, e.name), fn)
    return out
