"""Counterexample trace files: ITF-shaped JSON written atomically, loaded with validation, replayed.

A trace is replayed, never trusted: `replay_trace()` re-runs its actions on today's model and
compares every recorded state with the one that comes out. The format follows Apalache's
Informal Trace Format (a `#meta` object, `vars`, and `states` that are records of the
variables, each with its own `#meta`); 64-bit values are "0x..." strings. The schema is
schemas/trace.schema.json.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from mhpcheck import __version__
from mhpcheck.codec import VARS, decode_transition, encode_events, encode_state, encode_transition
from mhpcheck.core import outputs
from mhpcheck.core.errors import InputError
from mhpcheck.core.inputs import parse_json, read_bytes, read_text
from mhpcheck.core.results import CellResult, PropertyResult, Step
from mhpcheck.engines.cell import Cell, NotEnabled
from mhpcheck.model.arch import archs
from mhpcheck.model.errno import errname
from mhpcheck.model.state import KernelState
from mhpcheck.model.transitions import Bounds, Transition
from mhpcheck.model.variants import variant_named
from mhpcheck.properties import PROPERTIES, property_named

FORMAT_VERSION = 1
MAX_TRACE_BYTES = 32 << 20  # a trace of 64 steps with every kernel call is well under 1 MiB
MAX_PATCH_BYTES = 4 << 20  # a patch file replaces a few kernel functions
SUFFIX = ".trace.json"


@dataclass(frozen=True)
class Trace:
    """A loaded trace: where it came from, its metadata, and the actions to replay."""

    file: str
    meta: dict[str, Any]
    states: list[dict[str, Any]]
    path: tuple[Transition, ...]

    @property
    def patched(self) -> bool:
        """Whether the trace was taken on a kernel with a user patch file applied."""
        return bool(self.meta.get("patch")) or "@" in self.variant

    @property
    def patch_sha256(self) -> str | None:
        """The sha256 of the patch file the trace was taken with, when it records one."""
        patch = self.meta.get("patch")
        return str(patch["sha256"]) if isinstance(patch, dict) else None

    @property
    def arch(self) -> str:
        return str(self.meta["arch"])

    @property
    def bounds(self) -> Bounds:
        """The bounds of the run that wrote the trace: the environment its steps were taken in."""
        recorded = self.meta.get("bounds") or {}
        known = {f.name for f in fields(Bounds)}
        return Bounds(**{k: v for k, v in recorded.items() if k in known})

    @property
    def variant(self) -> str:
        return str(self.meta["variant"])

    @property
    def property(self) -> str:
        return str(self.meta["property"])


def patch_record(path: str) -> dict[str, str]:
    """What a trace records of the patch file it was taken with: its path and its content's
    sha256, so that a replay runs that file only when the user gives it, and only that file."""
    return {"path": path, "sha256": hashlib.sha256(read_bytes(path, MAX_PATCH_BYTES, "a patch")).hexdigest()}


def check_patch(trace: Trace, patch: str | None, variant: str | None) -> None:
    """InputError unless `patch` (the --patch the user gave) fits replaying `trace` on `variant`:
    a trace of a patched kernel replays on it only with the very patch file it records, given by
    the user. A trace never makes mhpcheck import a file: a patch file is code."""
    if patch is None:
        if trace.patched and variant is None:
            recorded = trace.meta.get("patch")
            name = recorded.get("path") if isinstance(recorded, dict) else recorded
            raise InputError(
                f"{trace.file}: taken on the patched kernel {trace.variant}: give its patch file "
                f"({name or 'not recorded'}) with --patch FILE, or another kernel with --variant; "
                "a patch file is code, and mhpcheck runs none a trace names"
            )
        return
    if not trace.patched:
        raise InputError(
            f"{trace.file}: taken on {trace.variant}, with no patch file; --patch does not apply"
        )
    want = trace.patch_sha256
    if want is not None:
        got = hashlib.sha256(read_bytes(patch, MAX_PATCH_BYTES, "a patch")).hexdigest()
        if got != want:
            raise InputError(
                f"{patch}: not the patch file {trace.file} was taken with (sha256 {got[:16]}…, "
                f"the trace records {want[:16]}…)"
            )


def build_trace(
    cell: CellResult,
    p: PropertyResult,
    *,
    command: str = "",
    config: dict[str, Any] | None = None,
    patch: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The trace document of a counterexample, rendered from the steps its result carries;
    `patch` is the patch_record() of the user patch file the run applied, if any."""
    prop = property_named(p.name)
    meta = {
        "format": "ITF",
        "format_description": "https://apalache-mc.org/docs/adr/015adr-trace.html",
        "source": "mhpcheck",
        "format_version": FORMAT_VERSION,
        "tool_version": __version__,
        "property": prop.name,
        "property_kind": prop.kind,
        "property_doc": prop.doc,
        "verdict": p.verdict.value,
        "message": p.message,
        "finding": p.finding,
        "arch": cell.arch,
        "variant": cell.variant,
        "engine": cell.engine,
        "bounds": cell.bounds,
        "command": command,
        "config": config or {},
        "patch": patch,
    }
    states = [{"#meta": {"index": 0, "action": "init"}, **encode_state(KernelState())}]
    for i, st in enumerate(p.steps, 1):
        states.append(
            {
                "#meta": {
                    "index": i,
                    "action": type(st.transition).__name__,
                    "args": encode_transition(st.transition),
                    "ret": st.ret,
                    "errno": errname(st.ret),
                    "calls": encode_events(st.events),
                },
                **encode_state(st.after),
            }
        )
    return {"#meta": meta, "vars": list(VARS), "states": states}


def trace_name(prop: str, arch: str, variant: str) -> str:
    safe = variant.replace("/", "_")
    return f"{prop}--{arch}--{safe}{SUFFIX}"


def write_trace(doc: dict[str, Any], directory: Path) -> Path:
    meta = doc["#meta"]
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / trace_name(meta["property"], meta["arch"], meta["variant"])
    outputs.write_atomic(path, json.dumps(doc, indent=2) + "\n")
    return path


@cache
def schema() -> dict[str, Any]:
    text = resources.files("mhpcheck").joinpath("schemas/trace.schema.json").read_text()
    return json.loads(text)  # type: ignore[no-any-return]


def _where(err: jsonschema.ValidationError) -> str:
    return "/".join(str(p) for p in err.absolute_path) or "top level"


def validate(doc: Any, file: str) -> None:
    """InputError naming the file and the first problem if `doc` is not an mhpcheck trace."""
    if not isinstance(doc, dict) or not isinstance(doc.get("#meta"), dict):
        raise InputError(f"{file}: not an mhpcheck trace (no '#meta' object)")
    if doc["#meta"].get("source") != "mhpcheck":
        raise InputError(f"{file}: not an mhpcheck trace ('#meta.source' is not 'mhpcheck')")
    version = doc["#meta"].get("format_version")
    if version != FORMAT_VERSION:
        raise InputError(f"{file}: trace format version {version!r}; this mhpcheck reads {FORMAT_VERSION}")
    err = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema()).iter_errors(doc))
    if err is not None:
        raise InputError(f"{file}: not a valid trace at {_where(err)}: {err.message}")


# The bounds a trace may record, as the command line takes them: a replay explores nothing, but
# its steps are checked against the environment these bounds offer.
_BOUND_RANGES = {
    "sections": (1, 16),
    "devices": (1, 8),
    "max_device_sections": (1, 16),
    "faults": (0, 8),
    "depth": (1, 100_000),
}


def _check_bounds(recorded: dict[str, Any], file: str) -> None:
    for f in fields(Bounds):
        if f.name not in recorded:
            continue
        value = recorded[f.name]
        where = f"{file}: at #meta/bounds/{f.name}"
        if f.name in _BOUND_RANGES:
            lo, hi = _BOUND_RANGES[f.name]
            if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
                raise InputError(f"{where}: {json.dumps(value)} is not an integer in {lo}..{hi}")
        elif not isinstance(value, bool):
            raise InputError(f"{where}: {json.dumps(value)} is not true or false")


def load_trace(file: str | Path) -> Trace:
    """Read and validate a trace file: every problem is an InputError naming the file."""
    name = str(file)
    doc = parse_json(read_text(file, MAX_TRACE_BYTES, "a trace"), name)
    validate(doc, name)
    meta = doc["#meta"]
    arch_names = [a.name for a in archs()]
    if meta["arch"] not in arch_names:
        raise InputError(f"{name}: unknown arch '{meta['arch']}' (valid: {', '.join(arch_names)})")
    try:
        variant_named(meta["variant"].partition("@")[0])
    except KeyError:
        raise InputError(f"{name}: unknown variant '{meta['variant']}'") from None
    if meta["property"] not in {p.name for p in PROPERTIES}:
        raise InputError(f"{name}: unknown property '{meta['property']}'")
    _check_bounds(meta["bounds"], name)
    path = tuple(
        decode_transition(st["#meta"]["action"], st["#meta"]["args"], f"{name}: state {i}")
        for i, st in enumerate(doc["states"][1:], 1)
    )
    return Trace(name, meta, doc["states"], path)


def first_difference(recorded: Any, today: Any, where: str = "") -> str | None:
    """The path of the first field where two encoded values differ, with both values."""
    if isinstance(recorded, dict) and isinstance(today, dict):
        # A field the model gained after the trace was written counts only off its default.
        added = [k for k in today if k not in recorded and today[k] not in (0, False, None, [])]
        for key in list(recorded) + added:
            if key == "#meta":
                continue
            d = first_difference(recorded.get(key), today.get(key), f"{where}.{key}" if where else key)
            if d is not None:
                return d
        return None
    if isinstance(recorded, list) and isinstance(today, list):
        for i, (a, b) in enumerate(zip(recorded, today, strict=False)):
            d = first_difference(a, b, f"{where}[{i}]")
            if d is not None:
                return d
        if len(recorded) != len(today):
            return f"{where}: trace has {len(recorded)} entries, today's model {len(today)}"
        return None
    if recorded != today:
        return f"{where}: trace {json.dumps(recorded)}, today's model {json.dumps(today)}"
    return None


@dataclass
class Replay:
    """What re-running a trace on today's model gave."""

    trace: Trace
    variant: str
    cell: Cell
    steps: list[Step]
    failed_at: int | None  # steps after which the property failed today; None: it held
    message: str
    stale: str | None  # the first recorded state or return value that came out differently

    @property
    def reproduces(self) -> bool:
        return self.failed_at is not None


def replay_trace(trace: Trace, variant: str | None = None, patch: str | None = None) -> Replay:
    """Re-run a trace's actions on today's model (at its own variant or `variant`, with the patch
    file `patch` the user gave, checked by check_patch()) and judge it. On its own kernel every
    recorded field that can be recomputed is compared: the initial state, and after each step its
    return value, its kernel calls and the state."""
    check_patch(trace, patch, variant)
    base = trace.variant.partition("@")[0]
    if patch is not None:
        from mhpcheck import patching

        v = f"{variant or base}@{patching.activate(patch).name}"
    else:
        v = variant or trace.variant
    own = variant is None
    prop = property_named(trace.property)
    cell = Cell(trace.arch, v, trace.bounds)
    try:
        steps, failed_at, message = cell.judge_path(prop, trace.path)
    except NotEnabled as e:
        raise InputError(f"{trace.file}: {e}") from None
    stale = _stale(trace, steps) if own else None
    return Replay(trace, v, cell, steps, failed_at, message, stale)


def _stale(trace: Trace, steps: list[Step]) -> str | None:
    """The first recorded field that today's model does not give again, or None."""
    init = trace.states[0]
    d = first_difference({k: init[k] for k in VARS if k in init}, encode_state(KernelState()))
    if d is not None:
        return f"state 0: {d}"
    for i, (st, rec) in enumerate(zip(steps, trace.states[1:], strict=False), 1):
        meta = rec["#meta"]
        if st.ret != meta["ret"]:
            return f"state {i}: return value: trace {meta['ret']}, today's model {st.ret}"
        errno = errname(st.ret)
        if meta["errno"] != errno:
            return f"state {i}: errno: trace {json.dumps(meta['errno'])}, today's model {json.dumps(errno)}"
        d = first_difference(meta["calls"], encode_events(st.events), "calls")
        if d is not None:
            return f"state {i}: {d}"
        d = first_difference({k: rec[k] for k in VARS if k in rec}, encode_state(st.after))
        if d is not None:
            return f"state {i}: {d}"
    if len(steps) < len(trace.path):
        return f"the property fails after {len(steps)} of the trace's {len(trace.path)} steps"
    return None
