"""Model values as plain JSON and back: states, transitions, kernel calls, steps and cell results.

The one encoding that trace files and the cache share. 64-bit values are "0x..." strings,
enums are written by name, dataclasses as objects of their fields. Decoding is driven by the
dataclasses' type hints and accepts exactly what encoding writes: a missing or unknown field,
a value of the wrong type or an unknown name raises (a ValueError, a KeyError or a TypeError),
never builds anything but model values. Nothing here imports or runs what it reads.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from dataclasses import fields, is_dataclass
from enum import Enum
from functools import cache
from typing import Any

from mhpcheck.core.errors import InputError
from mhpcheck.core.results import CellResult, PropertyResult, Step, Verdict
from mhpcheck.core.values import Word
from mhpcheck.model import events as model_events
from mhpcheck.model import pgtable
from mhpcheck.model.events import Call, Event
from mhpcheck.model.state import KernelState
from mhpcheck.model.transitions import TRANSITIONS, AltmapChoice, Transition

VARS = tuple(f.name for f in fields(KernelState))
# Transition arguments that are pfns or page counts: 64-bit values, written as hex strings.
HEX_ARGS = frozenset({"start_pfn", "nr_pages", "base_offset", "reserve", "free", "stale_alloc"})
_TRANSITIONS = {cls.__name__: cls for cls in TRANSITIONS}
_EVENTS = {
    cls.__name__: cls
    for cls in vars(model_events).values()
    if isinstance(cls, type) and issubclass(cls, Event) and cls is not Event
}
_MASK = (1 << 64) - 1


def hex64(x: int) -> str:
    return f"{x & _MASK:#x}"


def _hex(x: Any) -> int:
    if not isinstance(x, str) or not x.startswith("0x") or not 3 <= len(x) <= 18:
        raise ValueError(f"not a 64-bit hex value: {x!r}")
    return int(x, 16)


def encode_value(x: Any) -> Any:
    """A model value as JSON: Words as hex strings, enums by name, dataclasses as objects."""
    if isinstance(x, Word):
        return hex64(x.v)
    if isinstance(x, Enum):
        return x.name
    if is_dataclass(x) and not isinstance(x, type):
        return {f.name: encode_value(getattr(x, f.name)) for f in fields(x)}
    if isinstance(x, tuple | list):
        return [encode_value(y) for y in x]
    return x


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def decode_value(tp: Any, x: Any) -> Any:
    """The model value of type `tp` that encode_value() wrote as `x`."""
    if tp is Word:
        return Word(_hex(x))
    if tp is bool or tp is int or tp is str:
        if type(x) is not tp:
            raise TypeError(f"expected {tp.__name__}, not {type(x).__name__}")
        return x
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        options = typing.get_args(tp)
        if x is None:
            if type(None) not in options:
                raise TypeError("unexpected null")
            return None
        (option,) = [o for o in options if o is not type(None)]
        return decode_value(option, x)
    if origin is tuple:
        if not isinstance(x, list):
            raise TypeError(f"expected a list, not {type(x).__name__}")
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(decode_value(args[0], y) for y in x)
        return tuple(decode_value(a, y) for a, y in zip(args, x, strict=True))
    if isinstance(tp, type) and issubclass(tp, Enum):
        if not isinstance(x, str):
            raise TypeError(f"expected a {tp.__name__} name")
        return tp[x]
    if isinstance(tp, type) and is_dataclass(tp):
        if not isinstance(x, dict):
            raise TypeError(f"expected an object for {tp.__name__}")
        names = [f.name for f in fields(tp)]
        if set(x) != set(names):
            raise ValueError(f"{tp.__name__}: fields {sorted(x)}, expected {names}")
        hints = _hints(tp)
        return tp(**{n: decode_value(hints[n], x[n]) for n in names})
    raise TypeError(f"cannot decode {tp!r}")


def encode_state(s: KernelState) -> dict[str, Any]:
    """A state as JSON, its vmemmap leaf by leaf: a run of base pages is how the model keeps
    them, not what a trace's reader looks for."""
    d = {name: encode_value(getattr(s, name)) for name in VARS}
    d["vmemmap"] = [
        {name: value for name, value in encode_value(leaf).items() if name != "count"}
        for leaf in pgtable.each_leaf(s)
    ]
    return d


def decode_state(d: dict[str, Any]) -> KernelState:
    """The state encode_state() wrote as `d`, each vmemmap leaf a record of its own."""
    if isinstance(d.get("vmemmap"), list):
        d = {**d, "vmemmap": [{**x, "count": 1} if isinstance(x, dict) else x for x in d["vmemmap"]]}
    return decode_value(KernelState, d)  # type: ignore[no-any-return]


def encode_transition(t: Transition) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in t.args().items():
        if isinstance(value, AltmapChoice):
            # a hand-picked altmap is written as it always was; a namespace adds its alignment
            out[name] = {
                f.name: hex64(getattr(value, f.name))
                for f in fields(value)
                if f.name != "namespace_align" or value.namespace_align
            }
        elif isinstance(value, int) and name in HEX_ARGS:
            out[name] = hex64(value)
        else:
            out[name] = value
    return out


def decode_transition(action: str, args: dict[str, Any], where: str) -> Transition:
    """The transition a trace state names; InputError if the action or its arguments are unknown."""
    cls = _TRANSITIONS.get(action)
    if cls is None:
        raise InputError(f"{where}: unknown action '{action}' (valid: {', '.join(_TRANSITIONS)})")
    hints = _hints(cls)
    names = [f.name for f in fields(cls)]
    unknown = sorted(set(args) - set(names))
    if unknown:
        raise InputError(f"{where}: {action} has no argument '{unknown[0]}'")
    kwargs: dict[str, Any] = {}
    try:
        for name in names:
            if name not in args:
                continue
            value = args[name]
            if isinstance(value, dict) and AltmapChoice in typing.get_args(hints[name]):
                kwargs[name] = AltmapChoice(**{k: _hex(v) for k, v in value.items()})
            elif isinstance(value, str):
                kwargs[name] = _hex(value)
            else:
                kwargs[name] = value
        return cls(**kwargs)  # type: ignore[no-any-return]
    except (TypeError, ValueError) as e:
        raise InputError(f"{where}: bad arguments for {action}: {e}") from None


def encode_events(events: Sequence[Any]) -> list[dict[str, Any]]:
    out = []
    for e in events:
        d = {"event": type(e).__name__, **encode_value(e)}
        if "args" in d and isinstance(d["args"], list):  # Call: (name, value) pairs
            d["args"] = dict(d["args"])
        out.append(d)
    return out


def decode_events(items: list[dict[str, Any]]) -> tuple[Event, ...]:
    """The kernel calls and tracepoints encode_events() wrote as `items`. A call's arguments are
    the model's pfns and sizes (Words, written as hex) and numbers such as a device or a section."""
    out: list[Event] = []
    for item in items:
        if not isinstance(item, dict):
            raise TypeError("an event is an object")
        fields_ = dict(item)
        cls = _EVENTS[fields_.pop("event")]
        if cls is Call:
            args = fields_.get("args")
            if (
                not isinstance(args, dict)
                or not isinstance(fields_.get("function"), str)
                or len(fields_) != 2
            ):
                raise ValueError("a Call has a function and its arguments")
            pairs = tuple(
                (k, Word(_hex(v)) if isinstance(v, str) else decode_value(int, v)) for k, v in args.items()
            )
            out.append(Call(fields_["function"], pairs))
        else:
            out.append(decode_value(cls, fields_))
    return tuple(out)


def encode_step(st: Step) -> dict[str, Any]:
    return {
        "action": type(st.transition).__name__,
        "args": encode_transition(st.transition),
        "ret": st.ret,
        "calls": encode_events(st.events),
        "before": encode_state(st.before),
        "after": encode_state(st.after),
    }


def decode_step(d: dict[str, Any]) -> Step:
    t = decode_transition(d["action"], d["args"], "step")
    return Step(
        decode_state(d["before"]),
        t,
        decode_value(int, d["ret"]),
        decode_events(d["calls"]),
        decode_state(d["after"]),
    )


def encode_property(p: PropertyResult) -> dict[str, Any]:
    return {
        "name": p.name,
        "kind": p.kind,
        "verdict": p.verdict.value,
        "message": p.message,
        "path": [{"action": type(t).__name__, "args": encode_transition(t)} for t in p.path],
        "finding": p.finding,
        "trace_file": p.trace_file,
        "steps": [encode_step(st) for st in p.steps],
    }


def decode_property(d: dict[str, Any]) -> PropertyResult:
    text = {k: decode_value(str, d[k]) for k in ("name", "kind", "message", "finding", "trace_file")}
    return PropertyResult(
        verdict=Verdict(d["verdict"]),
        path=tuple(decode_transition(t["action"], t["args"], "path") for t in d["path"]),
        steps=tuple(decode_step(st) for st in d["steps"]),
        **text,
    )


def encode_cell(c: CellResult) -> dict[str, Any]:
    return {
        "arch": c.arch,
        "variant": c.variant,
        "engine": c.engine,
        "bounds": c.bounds,
        "properties": [encode_property(p) for p in c.properties],
        "states": c.states,
        "transitions": c.transitions,
        "depth": c.depth,
        "seconds": c.seconds,
        "complete": c.complete,
        "budget": c.budget,
        "stats": c.stats,
    }


def decode_cell(d: dict[str, Any]) -> CellResult:
    if not isinstance(d["bounds"], dict) or not isinstance(d["stats"], dict):
        raise TypeError("bounds and stats are objects")
    seconds = d["seconds"]
    if type(seconds) not in (int, float):
        raise TypeError("seconds is a number")
    return CellResult(
        arch=decode_value(str, d["arch"]),
        variant=decode_value(str, d["variant"]),
        engine=decode_value(str, d["engine"]),
        bounds=d["bounds"],
        properties=[decode_property(p) for p in d["properties"]],
        states=decode_value(int, d["states"]),
        transitions=decode_value(int, d["transitions"]),
        depth=decode_value(int, d["depth"]),
        seconds=float(seconds),
        complete=decode_value(bool, d["complete"]),
        budget=decode_value(str, d["budget"]),
        stats=d["stats"],
    )


Judged = tuple[list[CellResult], list[tuple[str, str, str, str]]]


def encode_judged(judged: Judged) -> dict[str, Any]:
    """What one cell's run gave (its results and the recorded findings it no longer shows)."""
    cells, stale = judged
    return {"cells": [encode_cell(c) for c in cells], "stale": [list(s) for s in stale]}


def decode_judged(d: dict[str, Any]) -> Judged:
    cells = [decode_cell(c) for c in d["cells"]]
    stale = [decode_value(tuple[str, str, str, str], s) for s in d["stale"]]
    return cells, stale
