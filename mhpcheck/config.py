"""Configuration files: mhpcheck.toml or [tool.mhpcheck] in pyproject.toml, checked key by key."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mhpcheck.core.errors import InputError
from mhpcheck.core.inputs import parse_toml, read_text
from mhpcheck.model.arch import archs
from mhpcheck.model.variants import ALL_ERAS, MUTANTS, VARIANTS, variant_named
from mhpcheck.properties import PROPERTIES

FORMATS = ("text", "json", "junit", "sarif")
MAX_CONFIG_BYTES = 1 << 20  # a configuration is a few lines; pyproject.toml files are a few KiB


def _did_you_mean(value: str, valid: list[str]) -> str:
    close = difflib.get_close_matches(value, valid, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def unknown(kind: str, value: str, valid: list[str]) -> str:
    """The one line that says a name is unknown, with a did-you-mean and what is valid."""
    return f"unknown {kind} '{value}'{_did_you_mean(value, valid)}; valid: {', '.join(valid)}"


def check_name(kind: str, value: str, valid: list[str]) -> str:
    """`value` if it is one of `valid`; InputError naming it (with a did-you-mean) otherwise."""
    if value not in valid:
        raise InputError(unknown(kind, value, valid))
    return value


def arch_names() -> list[str]:
    return [a.name for a in archs()]


def property_names() -> list[str]:
    return [p.name for p in PROPERTIES]


def variant_problem(name: str, eras: bool = True) -> str | None:
    """Why `name` is no variant ("v4.5", "v4.5+<mutant>", "eras" where allowed), or None."""
    if name == ALL_ERAS:
        return None if eras else f"'{ALL_ERAS}' is not one variant here; name one era"
    if "@" in name:
        return f"variant '{name}': a patched kernel is checked with --patch FILE, not named by its variant"
    base, plus, mutant = name.partition("+")
    if base == ALL_ERAS:
        return f"'{ALL_ERAS}' takes no mutant: name an era, e.g. v4.5+{mutant or '<mutant>'}"
    if base not in _variant_names():
        return unknown("variant", base, _variant_names() + ([ALL_ERAS] if eras else []))
    mutants = [m.name for m in MUTANTS]
    if plus and not mutant:
        return f"variant '{name}' names no mutant after '+'; valid: {', '.join(mutants)}"
    if mutant not in ["", *mutants]:
        return unknown("mutant", mutant, mutants)
    try:
        variant_named(name)
    except KeyError:
        return f"unknown variant '{name}'"
    return None


def check_variant(name: str, eras: bool = True) -> str:
    """`name` if it names a variant; InputError naming what is wrong otherwise."""
    problem = variant_problem(name, eras)
    if problem is not None:
        raise InputError(problem)
    return name


def _int_in(lo: int, hi: int | None) -> Callable[[Any], str | None]:
    def check(v: Any) -> str | None:
        if not isinstance(v, int) or isinstance(v, bool):
            return f"must be an integer, not {type(v).__name__}"
        if v < lo or (hi is not None and v > hi):
            return f"{v} is out of range {lo}..{hi if hi is not None else ''}"
        return None

    return check


def _positive_number(v: Any) -> str | None:
    if not isinstance(v, int | float) or isinstance(v, bool):
        return f"must be a number, not {type(v).__name__}"
    return None if v > 0 else f"{v} must be greater than 0"


def _boolean(v: Any) -> str | None:
    return None if isinstance(v, bool) else f"must be true or false, not {v!r}"


def _string(v: Any) -> str | None:
    return None if isinstance(v, str) and v else f"must be a non-empty string, not {v!r}"


def _one_of(valid: tuple[str, ...]) -> Callable[[Any], str | None]:
    def check(v: Any) -> str | None:
        if v in valid:
            return None
        return f"unknown value {v!r}{_did_you_mean(str(v), list(valid))}; valid: {', '.join(valid)}"

    return check


def _names(kind: str, valid: Callable[[], list[str]]) -> Callable[[Any], str | None]:
    def check(v: Any) -> str | None:
        items = [v] if isinstance(v, str) else v
        if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
            return "must be a name or a list of names"
        names = valid()
        for x in items:
            if x not in names:
                return unknown(kind, x, names)
        return None

    return check


def _variant_names() -> list[str]:
    return [v.name for v in VARIANTS]


def _variants(v: Any) -> str | None:
    items = [v] if isinstance(v, str) else v
    if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
        return "must be a name or a list of names"
    for x in items:
        problem = variant_problem(x)
        if problem is not None:
            return problem
    return None


# key -> (the check command's parameter it sets, its validator)
KEYS: dict[str, tuple[str, Callable[[Any], str | None]]] = {
    "arch": ("arch_names", _names("arch", arch_names)),
    "variant": ("variant_names", _variants),
    "property": ("property_names", _names("property", property_names)),
    "depth": ("depth", _int_in(1, 64)),
    "sections": ("sections", _int_in(1, 16)),
    "devices": ("devices", _int_in(1, 8)),
    "max_device_sections": ("max_device_sections", _int_in(1, 16)),
    "partial_failures": ("partial_failures", _boolean),
    "subsections": ("subsections", _boolean),
    "namespaces": ("namespaces", _boolean),
    "faults": ("faults", _int_in(0, 8)),
    "max_states": ("max_states", _int_in(1, None)),
    "time_budget": ("time_budget", _positive_number),
    "jobs": ("jobs", _int_in(1, 256)),
    "executor": ("executor", _one_of(("process", "ray"))),
    "engine": ("engine", _one_of(("explicit", "symbolic", "both"))),
    "symmetry": ("symmetry", _boolean),
    "format": ("fmt", _one_of(FORMATS)),
    "output": ("output", _string),
    "trace_dir": ("trace_dir", _string),
    "cache": ("cache", _boolean),
    "cache_dir": ("cache_dir", _string),
}


@dataclass(frozen=True)
class Config:
    """The settings read from a file, keyed by the commands' parameter names."""

    file: str | None = None
    values: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, **self.values}


def find(start: Path) -> tuple[Path, bool] | None:
    """The nearest mhpcheck.toml, or pyproject.toml with a [tool.mhpcheck] table, from `start` up."""
    for folder in (start, *start.parents):
        own = folder / "mhpcheck.toml"
        if own.is_file():
            return own, False
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            try:
                doc = parse_toml(read_text(pyproject, MAX_CONFIG_BYTES, "a pyproject.toml"), str(pyproject))
            except InputError:
                continue  # someone else's broken (or huge, or odd) pyproject is not our input
            if isinstance(doc.get("tool"), dict) and "mhpcheck" in doc["tool"]:
                return pyproject, True
    return None


def load_config(start: Path, explicit: Path | None = None) -> Config:
    """The configuration for a run from `start` (or the file given with --config)."""
    if explicit is not None:
        where, nested = explicit, explicit.name == "pyproject.toml"
    else:
        found = find(start)
        if found is None:
            return Config()
        where, nested = found
    name = str(where)
    doc = parse_toml(read_text(where, MAX_CONFIG_BYTES, "a configuration"), name)
    table: Any = doc.get("tool", {}).get("mhpcheck", {}) if nested else doc
    prefix = "[tool.mhpcheck] " if nested else ""
    if not isinstance(table, dict):
        raise InputError(f"{name}: {prefix.strip() or 'the file'} must be a table")
    values: dict[str, Any] = {}
    for raw, value in table.items():
        key = raw.replace("-", "_")
        if key not in KEYS:
            hint = _did_you_mean(key, list(KEYS))
            raise InputError(f"{name}: {prefix}unknown key '{raw}'{hint}; valid: {', '.join(KEYS)}")
        param, validate = KEYS[key]
        problem = validate(value)
        if problem is not None:
            raise InputError(f"{name}: {prefix}{raw}: {problem}")
        values[param] = tuple([value] if isinstance(value, str) else value) if key in _LISTS else value
    sections = values.get("sections", 3)
    if values.get("max_device_sections", 0) > sections:
        wanted = values["max_device_sections"]
        raise InputError(f"{name}: {prefix}max_device_sections {wanted} exceeds sections {sections}")
    return Config(name, values)


_LISTS = frozenset({"arch", "variant", "property"})
