"""The options every command that explores offers, declared once with one set of defaults.

`check`, `diff`, `simulate`, `bisect` and `graph` take the same selection options (--arch,
--variant, --property), the same bounds (--depth, --faults, --sections, --devices,
--max-device-sections, --partial-failures, --subsections) and the same run options (--jobs,
--time-budget, --max-states, --symmetry, --engine). A command hands them on as one `Run`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import click

from mhpcheck.checker import (
    DEFAULT_BOUNDS,
    DEFAULT_VARIANTS,
    SIMULATION_DEPTH,
    SYMBOLIC_DEPTH,
    SYMBOLIC_FAULTS,
    default_jobs,
)
from mhpcheck.cli.app import BadInput
from mhpcheck.config import arch_names, check_name, check_variant, property_names
from mhpcheck.model.transitions import Bounds
from mhpcheck.model.variants import ALL_ERAS

ENGINES = ("explicit", "symbolic", "both")
MAX_DEPTH = 64  # an exhaustive search; a walk of `simulate` may go to 100,000 steps


@dataclass(frozen=True)
class Run:
    """What a command that explores was asked for: the cells, the bounds and the run's budgets."""

    archs: tuple[str, ...]
    variants: tuple[str, ...]
    properties: tuple[str, ...]
    bounds: Bounds
    engine: str
    jobs: int
    time_budget: float | None
    max_states: int | None
    symmetry: bool

    def refuse(self, option: str, why: str) -> None:
        """Refuse, in one line, an option this command cannot honour when the user gave it on the
        command line (from a configuration file written for `check`, it is left aside)."""
        ctx = click.get_current_context()
        param = option.lstrip("-").replace("-", "_")
        if ctx.get_parameter_source(param) == click.core.ParameterSource.COMMANDLINE:
            raise BadInput(f"{option}: {why}")


def _apply(*options: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def apply(fn: Any) -> Any:
        for option in reversed(options):
            fn = option(fn)
        return fn

    return apply


_OPTIONS = _apply(
    click.option(
        "--arch", "arch_names", multiple=True, help="Architecture config (repeatable) [default: all]."
    ),
    click.option(
        "--variant",
        "variant_names",
        multiple=True,
        help=f"Kernel variant, e.g. v4.5 or v4.5+<mutant>; '{ALL_ERAS}' for every era "
        f"[default: {', '.join(DEFAULT_VARIANTS)}].",
    ),
    click.option("--property", "property_names", multiple=True, help="Property (repeatable) [default: all]."),
    click.option(
        "--engine",
        type=click.Choice(ENGINES),
        default="explicit",
        show_default=True,
        help="explicit: every state at small concrete values; symbolic: every 64-bit altmap value, "
        "by Z3; both, cross-checked.",
    ),
    click.option(
        "--depth",
        type=click.IntRange(1, 10**5),
        default=None,
        help=f"Longest operation sequence [default: {DEFAULT_BOUNDS.depth}; symbolic {SYMBOLIC_DEPTH}; "
        f"simulate {SIMULATION_DEPTH}, the steps of a walk].",
    ),
    click.option(
        "--faults",
        type=click.IntRange(0, 8),
        default=None,
        help="vmemmap allocations the environment may make fail along a path "
        f"[default: {DEFAULT_BOUNDS.faults}; symbolic {SYMBOLIC_FAULTS}, its altmaps run out by themselves].",
    ),
    click.option(
        "--sections",
        type=click.IntRange(1, 16),
        default=DEFAULT_BOUNDS.sections,
        show_default=True,
        help="Hot-pluggable sections in the window.",
    ),
    click.option(
        "--devices",
        type=click.IntRange(1, 8),
        default=DEFAULT_BOUNDS.devices,
        show_default=True,
        help="Device slots.",
    ),
    click.option(
        "--max-device-sections",
        type=click.IntRange(1, 16),
        default=DEFAULT_BOUNDS.max_device_sections,
        show_default=True,
        help="The largest device range, in sections.",
    ),
    click.option(
        "--partial-failures/--no-partial-failures",
        default=DEFAULT_BOUNDS.partial_failures,
        show_default=True,
        help="Altmaps that run out after an add's first section.",
    ),
    click.option(
        "--subsections/--no-subsections",
        default=DEFAULT_BOUNDS.subsections,
        show_default=True,
        help="From v5.3, device ranges that are not section aligned (2 MiB sub-sections).",
    ),
    click.option(
        "--namespaces/--no-namespaces",
        default=DEFAULT_BOUNDS.namespaces,
        show_default=True,
        help="From v5.3, also nvdimm namespaces whose altmap the pfn driver lays out (nd_pfn_init()).",
    ),
    click.option(
        "--symmetry/--no-symmetry",
        default=False,
        show_default=True,
        help="Explore one state per permutation of interchangeable devices.",
    ),
    click.option(
        "--max-states",
        type=click.IntRange(1, 2**63 - 1),
        default=None,
        help="State budget per cell (inconclusive if hit).",
    ),
    click.option(
        "--time-budget",
        type=click.FloatRange(0, 1e9, min_open=True),
        default=None,
        help="Seconds per cell (inconclusive if hit).",
    ),
    click.option(
        "--jobs", type=click.IntRange(1, 256), default=None, help="Cells in parallel [default: cores]."
    ),
)

_NAMES: tuple[str, ...] = (
    "arch_names",
    "variant_names",
    "property_names",
    "engine",
    "depth",
    "faults",
    "sections",
    "devices",
    "max_device_sections",
    "partial_failures",
    "subsections",
    "namespaces",
    "symmetry",
    "max_states",
    "time_budget",
    "jobs",
)


def explore_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The shared options, handed to the command as one `run: Run` (checked, defaults resolved)."""

    @functools.wraps(fn)
    def command(**params: Any) -> Any:
        values = {n: params.pop(n) for n in _NAMES}
        run = resolve(fn.__name__, values)
        # the report's effective configuration shows what ran, not "default"
        click.get_current_context().params.update(depth=run.bounds.depth, faults=run.bounds.faults)
        return fn(run=run, **params)

    return _OPTIONS(command)


def resolve(command: str, v: dict[str, Any]) -> Run:
    """The names checked against what exists, the engine's defaults filled in, the bounds checked."""
    for a in v["arch_names"]:
        check_name("arch", a, arch_names())
    for name in v["variant_names"]:
        check_variant(name)
    for p in v["property_names"]:
        check_name("property", p, property_names())
    engine = v["engine"]
    depth, faults = v["depth"], v["faults"]
    if depth is None:
        depth = {"symbolic": SYMBOLIC_DEPTH, "simulate": SIMULATION_DEPTH}.get(
            "simulate" if command == "simulate" else engine, DEFAULT_BOUNDS.depth
        )
    if faults is None:
        faults = SYMBOLIC_FAULTS if engine == "symbolic" else DEFAULT_BOUNDS.faults
    bounds = replace(
        DEFAULT_BOUNDS,
        depth=depth,
        faults=faults,
        sections=v["sections"],
        devices=v["devices"],
        max_device_sections=v["max_device_sections"],
        partial_failures=v["partial_failures"],
        subsections=v["subsections"],
        namespaces=v["namespaces"],
    )
    if bounds.max_device_sections > bounds.sections:
        raise BadInput(
            f"--max-device-sections {bounds.max_device_sections} exceeds --sections {bounds.sections}"
        )
    if command != "simulate" and depth > MAX_DEPTH:
        raise BadInput(
            f"Invalid value for '--depth': {depth} is not in the range 1<=x<={MAX_DEPTH} "
            "(only simulate walks further)"
        )
    return Run(
        tuple(v["arch_names"]),
        tuple(v["variant_names"]),
        tuple(v["property_names"]),
        bounds,
        engine,
        v["jobs"] or default_jobs(),
        v["time_budget"],
        v["max_states"],
        v["symmetry"],
    )
