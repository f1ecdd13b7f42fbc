"""The mhpcheck command line: parse, make one call into mhpcheck, render, return an exit code."""

from __future__ import annotations

import dataclasses
import difflib
import functools
import os
import shlex
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from mhpcheck import __version__, trace
from mhpcheck.checker import (
    DEFAULT_BOUNDS,
    DEFAULT_VARIANTS,
    SIMULATION_DEPTH,
    SIMULATION_WALKS,
    SYMBOLIC_DEPTH,
    SYMBOLIC_FAULTS,
    CheckRequest,
    Report,
    default_jobs,
    run_check,
)
from mhpcheck.config import Config
from mhpcheck.errors import InputError
from mhpcheck.exitcodes import HELP as EXIT_HELP
from mhpcheck.exitcodes import ExitCode
from mhpcheck.explorer import InternalError
from mhpcheck.model.arch import archs
from mhpcheck.model.transitions import Bounds
from mhpcheck.model.variants import ALL_ERAS, MUTANTS, VARIANTS, variant_named
from mhpcheck.properties import PROPERTIES
from mhpcheck.report import listing, text
from mhpcheck.results import CellResult, Verdict


class BadInput(click.ClickException):
    """Bad input: one line on stderr, exit 2."""

    exit_code = 2


def _one_of(kind: str, value: str, valid: list[str]) -> str:
    if value in valid:
        return value
    close = difflib.get_close_matches(value, valid, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise BadInput(f"unknown {kind} '{value}'{hint}; valid: {', '.join(valid)}")


def _variant(value: str) -> str:
    if value == ALL_ERAS:
        return value
    try:
        variant_named(value)
    except KeyError:
        base, _, mutant = value.partition("+")
        _one_of("variant", base, [v.name for v in VARIANTS] + [ALL_ERAS])
        _one_of("mutant", mutant, [m.name for m in MUTANTS])
    return value


@click.group(
    help="Bounded model checker for Linux memory hotplug.\n\nSettings come from mhpcheck.toml, or "
    "[tool.mhpcheck] in pyproject.toml, in this folder or the nearest parent holding one; flags "
    f"override them.\n\n{EXIT_HELP}"
)
@click.version_option(__version__, prog_name="mhpcheck")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Read settings from this file instead of looking for mhpcheck.toml / pyproject.toml.",
)
@click.pass_context
def cli(ctx: click.Context, config_file: str | None) -> None:
    from mhpcheck.config import load_config

    cfg = load_config(Path.cwd(), Path(config_file) if config_file is not None else None)
    ctx.obj = cfg
    ctx.default_map = {"check": cfg.values}


def _options(*options: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """One decorator applying a group of click options, in the order given (shared by commands)."""

    def apply(fn: Any) -> Any:
        for option in reversed(options):
            fn = option(fn)
        return fn

    return apply


matrix_options = _options(  # --arch, --variant, --property: which cells and properties.
    click.option("--arch", "arch_names", multiple=True, help="Architecture config (repeatable)."),
    click.option(
        "--variant",
        "variant_names",
        multiple=True,
        help=f"Kernel variant, e.g. v4.5 or v4.5+<mutant>; '{ALL_ERAS}' for every era "
        f"[default: {', '.join(DEFAULT_VARIANTS)}].",
    ),
    click.option("--property", "property_names", multiple=True, help="Property (repeatable)."),
)


_bound_option_group = _options(  # The bounds of the environment: sections, devices, failures.
    click.option(
        "--sections",
        type=click.IntRange(1, 16),
        default=DEFAULT_BOUNDS.sections,
        show_default=True,
        help="Hot-pluggable sections in the window.",
    ),
    click.option("--devices", type=click.IntRange(1, 8), default=DEFAULT_BOUNDS.devices, show_default=True),
    click.option(
        "--max-device-sections",
        type=click.IntRange(1, 16),
        default=DEFAULT_BOUNDS.max_device_sections,
        show_default=True,
    ),
    click.option(
        "--partial-failures/--no-partial-failures",
        default=DEFAULT_BOUNDS.partial_failures,
        help="Altmaps that run out after an add's first section.",
    ),
    click.option(
        "--subsections/--no-subsections",
        default=DEFAULT_BOUNDS.subsections,
        show_default=True,
        help="From v5.3, device ranges that are not section aligned (2 MiB sub-sections).",
    ),
    click.option(
        "--faults",
        type=click.IntRange(0, 8),
        default=None,
        help="vmemmap allocations the environment may make fail along a path "
        f"[default: {DEFAULT_BOUNDS.faults}; symbolic 0, its altmaps run out by themselves].",
    ),
)
# The options above that are Bounds fields as they stand (--faults' default depends on the engine)
_SHAPE = ("sections", "devices", "max_device_sections", "partial_failures", "subsections")


def bound_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The bound options, handed to the command as one `shape` dict of Bounds fields, and `faults`."""

    @functools.wraps(fn)
    def command(**params: Any) -> Any:
        return fn(shape={n: params.pop(n) for n in _SHAPE}, **params)

    return _bound_option_group(command)


output_options = _options(  # Where traces and the report go, and in which format.
    click.option(
        "--trace-dir",
        type=click.Path(file_okay=False),
        default="mhpcheck-out",
        show_default=True,
        help="Where counterexample traces are written (<property>--<arch>--<variant>.trace.json).",
    ),
    click.option(
        "--format",
        "fmt",
        type=click.Choice(["text", "json", "junit", "sarif"]),
        default="text",
        show_default=True,
        help="Report format.",
    ),
    click.option(
        "--output",
        "-o",
        type=click.Path(dir_okay=False),
        default=None,
        help="Write the report there (atomically) [default: stdout].",
    ),
    click.option("-v", "--verbose", is_flag=True, help="Show the traces of known findings too."),
)


@cli.command(help=f"Check properties over the matrix arch × variant.\n\n{EXIT_HELP}")
@matrix_options
@click.option(
    "--engine",
    type=click.Choice(["explicit", "symbolic", "both"]),
    default="explicit",
    show_default=True,
    help="explicit: every state at small concrete values; symbolic: every 64-bit altmap value, by Z3; "
    "both, cross-checked.",
)
@click.option(
    "--depth",
    type=click.IntRange(1, 64),
    default=None,
    help=f"Longest operation sequence [default: {DEFAULT_BOUNDS.depth}; symbolic {SYMBOLIC_DEPTH}].",
)
@bound_options
@click.option(
    "--max-states",
    type=click.IntRange(1, 2**63 - 1),
    default=None,
    help="State budget (inconclusive if hit).",
)
@click.option(
    "--time-budget",
    type=click.FloatRange(0, 1e9, min_open=True),
    default=None,
    help="Seconds per cell (inconclusive if hit).",
)
@click.option("--jobs", type=click.IntRange(1, 256), default=None, help="Cells in parallel [default: cores].")
@click.option(
    "--executor",
    type=click.Choice(["process", "ray"]),
    default="process",
    show_default=True,
    help="Where cells run: a local process pool, or Ray (pip install 'mhpcheck[ray]'; "
    "RAY_ADDRESS for a cluster).",
)
@click.option(
    "--patch",
    "patch_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="A patch file replacing model functions, applied to every variant.",
)
@click.option(
    "--symmetry/--no-symmetry",
    default=False,
    show_default=True,
    help="Explore one state per permutation of interchangeable devices.",
)
@output_options
@click.option(
    "--cache/--no-cache",
    default=True,
    show_default=True,
    help="Reuse judged cells of an identical earlier run (same model source, settings and version).",
)
@click.option(
    "--cache-dir", type=click.Path(file_okay=False), default="mhpcheck-out/cache", show_default=True
)
def check(
    arch_names: tuple[str, ...],
    variant_names: tuple[str, ...],
    property_names: tuple[str, ...],
    engine: str,
    depth: int | None,
    shape: dict[str, Any],
    faults: int | None,
    max_states: int | None,
    time_budget: float | None,
    jobs: int | None,
    executor: str,
    patch_file: str | None,
    symmetry: bool,
    trace_dir: str,
    fmt: str,
    output: str | None,
    cache: bool,
    cache_dir: str,
    verbose: bool,
) -> int:
    if depth is None:
        depth = SYMBOLIC_DEPTH if engine == "symbolic" else DEFAULT_BOUNDS.depth
    if faults is None:
        faults = SYMBOLIC_FAULTS if engine == "symbolic" else DEFAULT_BOUNDS.faults
    # the report's effective configuration shows what ran, not "default"
    click.get_current_context().params.update(depth=depth, faults=faults)
    bounds = _bounds(arch_names, variant_names, property_names, depth, faults, shape)
    req = CheckRequest(
        tuple(arch_names),
        tuple(variant_names),
        tuple(property_names),
        bounds,
        max_states,
        time_budget,
        jobs or default_jobs(),
        patch_file,
        symmetry,
        cache_dir if cache else None,
        executor,
        engine,
    )
    what = f"depth {depth}"
    return _run_and_report(req, what, patch_file, trace_dir, fmt, output, verbose)


def _bounds(
    arch_names: tuple[str, ...],
    variant_names: tuple[str, ...],
    property_names: tuple[str, ...],
    depth: int,
    faults: int,
    shape: dict[str, Any],
) -> Bounds:
    """The names checked against what exists, and the bounds checked against each other."""
    for a in arch_names:
        _one_of("arch", a, [x.name for x in archs()])
    for v in variant_names:
        _variant(v)
    for p in property_names:
        _one_of("property", p, [x.name for x in PROPERTIES])
    bounds = replace(DEFAULT_BOUNDS, depth=depth, faults=faults, **shape)
    if bounds.max_device_sections > bounds.sections:
        raise BadInput(
            f"--max-device-sections {bounds.max_device_sections} exceeds --sections {bounds.sections}"
        )
    return bounds


@cli.command(
    help="Random walks far deeper than exhaustive search: a Hypothesis state machine with one rule "
    "per transition and every property judged after each step; what it finds is shrunk, minimised "
    "and written as a trace. Exit 1 on a violation, 3 otherwise: walks sample, they prove nothing."
    f"\n\n{EXIT_HELP}"
)
@matrix_options
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True)
@click.option(
    "--runs",
    type=click.IntRange(1, 10**7),
    default=SIMULATION_WALKS,
    show_default=True,
    help="Walks per cell.",
)
@click.option(
    "--depth",
    type=click.IntRange(1, 10**5),
    default=SIMULATION_DEPTH,
    show_default=True,
    help="Steps per walk.",
)
@bound_options
@click.option("--jobs", type=click.IntRange(1, 256), default=None, help="Cells in parallel [default: cores].")
@output_options
def simulate(
    arch_names: tuple[str, ...],
    variant_names: tuple[str, ...],
    property_names: tuple[str, ...],
    seed: int,
    runs: int,
    depth: int,
    shape: dict[str, Any],
    faults: int | None,
    jobs: int | None,
    trace_dir: str,
    fmt: str,
    output: str | None,
    verbose: bool,
) -> int:
    faults = DEFAULT_BOUNDS.faults if faults is None else faults
    bounds = _bounds(arch_names, variant_names, property_names, depth, faults, shape)
    click.get_current_context().params.update(faults=faults)
    req = CheckRequest(
        tuple(arch_names),
        tuple(variant_names),
        tuple(property_names),
        bounds,
        jobs=jobs or default_jobs(),
        engine="simulation",
        walks=(runs, seed),
    )
    what = f"simulation: {runs} walks of up to {depth} steps from seed {seed}"
    return _run_and_report(req, what, None, trace_dir, fmt, output, verbose)


def _run_and_report(
    req: CheckRequest,
    what: str,
    patch_file: str | None,
    trace_dir: str,
    fmt: str,
    output: str | None,
    verbose: bool,
) -> int:
    """Run a check request, write its traces and report, and give the exit code."""
    b = req.bounds
    if output is not None:
        _check_writable(Path(output), "--output")
    t0 = time.perf_counter()
    click.echo(
        f"mhpcheck {__version__}: {what}, {b.sections} sections, {b.devices} devices of up to "
        f"{b.max_device_sections} sections, {b.faults} allocation fault(s), partial failures "
        # the symbolic engine's altmaps of every value include those that run out part-way
        f"{'on' if b.partial_failures or req.engine == 'symbolic' else 'off'}",
        err=True,
    )

    from mhpcheck.checker import cells_of

    total = len(cells_of(req)[0])
    report = Report()
    interrupted = False
    try:
        if sys.stderr.isatty():
            from rich.progress import Progress

            with Progress(transient=True) as bar:
                task = bar.add_task("checking", total=total)

                def advance(cell: CellResult) -> None:
                    bar.update(task, advance=1, description=f"{cell.arch} {cell.variant}")

                run_check(req, advance, report)
        else:

            def progress_line(cell: CellResult) -> None:
                click.echo(
                    f"done {len(report.cells)}/{total}: {cell.arch} {cell.variant} states={cell.states} "
                    f"sec={cell.seconds:.1f}",
                    err=True,
                )

            run_check(req, progress_line, report)
    except KeyboardInterrupt:
        # keep what is done: traces and the report of the cells that finished, written whole
        interrupted = True
    _write_traces(report, Path(trace_dir), bounds_of=lambda c: c.bounds, patch=patch_file)
    ctx = click.get_current_context()
    context = {
        "command": command_line(),
        "config_file": cfg.file if (cfg := ctx.find_object(Config)) is not None else None,
        "config": _effective(ctx),
        "interrupted": interrupted,
    }
    rendered = _render(fmt, report, context, verbose)
    if output is not None:
        _write_output(Path(output), rendered)
    if output is None and fmt != "text":
        click.echo(rendered, nl=False)
    else:
        for line in text.render(report, verbose):
            click.echo(line)
    if interrupted:
        click.echo(
            f"interrupted after {len(report.cells)} of {total} cells; their results are kept", err=True
        )
        raise KeyboardInterrupt
    code = report.exit_code()
    from_cache = (
        f" ({report.cached} from the cache, re-checked nothing)"
        if report.cached == len(report.cells)
        else (f" ({report.cached} from the cache)" if report.cached else "")
    )
    click.echo(
        f"{len(report.cells)} cells{from_cache}, {sum(c.states for c in report.cells)} states in "
        f"{time.perf_counter() - t0:.1f} s: {code.name.lower().replace('_', ' ')} (exit {int(code)})",
        err=True,
    )
    return int(code)


@cli.command(
    help="Explore two variants (or a variant and a patch file) over the same sequences and "
    "report every difference, classified as fix, regression or behaviour change. Exit 1 on a regression."
)
@click.option(
    "--variant",
    "variant_names",
    multiple=True,
    required=True,
    help="Variant A, then variant B (or one variant with --patch).",
)
@click.option(
    "--patch",
    "patch_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="A patch file: B is A with it applied.",
)
@click.option("--arch", "arch_names", multiple=True, help="Architecture config (repeatable) [default: all].")
@click.option("--depth", type=click.IntRange(1, 16), default=3, show_default=True)
@click.option("--faults", type=click.IntRange(0, 8), default=0, show_default=True)
def diff(
    variant_names: tuple[str, ...],
    patch_file: str | None,
    arch_names: tuple[str, ...],
    depth: int,
    faults: int,
) -> int:
    from mhpcheck import diff as semdiff

    for v in variant_names:
        _variant(v)
    for a in arch_names:
        _one_of("arch", a, [x.name for x in archs()])
    if patch_file is not None:
        if len(variant_names) != 1:
            raise BadInput("with --patch give exactly one --variant")
        patch = _activate(patch_file)
        a_name, b_name = variant_names[0], f"{variant_names[0]}@{patch.name}"
    elif len(variant_names) == 2:
        a_name, b_name = variant_names
    else:
        raise BadInput("give two --variant, or one --variant and --patch FILE")
    bounds = replace(DEFAULT_BOUNDS, depth=depth, faults=faults)
    regression = False
    affected: dict[str, list[str]] = {}
    for a in arch_names or tuple(x.name for x in archs()):
        r = semdiff.diff(a, a_name, b_name, bounds)
        if r.skipped:
            click.echo(f"{a:16s} skipped: {r.skipped}")
            continue
        head = "identical behaviour" if r.identical else ", ".join(r.differences)
        click.echo(f"{a:16s} {a_name} → {b_name}: {head}  ({r.pairs} step pairs, {r.seconds:.1f} s)")
        for d in r.differences.values():
            props = f" [{', '.join(d.properties)}]" if d.properties else ""
            click.echo(f"  {d.kind}{props}: {d.detail}")
            for i, t in enumerate(d.path, 1):
                click.echo(f"    {i}  {t}")
        regression |= semdiff.REGRESSION in r.differences
        for kind in r.differences:
            affected.setdefault(kind, []).append(a)
    for kind in (semdiff.FIX, semdiff.REGRESSION, semdiff.CHANGE):
        if kind in affected:
            click.echo(f"{kind}: {', '.join(affected[kind])}")
    if not affected:
        click.echo("identical behaviour on every arch compared")
    return int(ExitCode.VIOLATED if regression else ExitCode.HOLDS)


@cli.command(
    help="The first era where a property's verdict flips on an arch, and the commit that flipped it."
)
@click.option("--property", "prop", required=True)
@click.option("--arch", "arch_name", required=True)
@click.option("--depth", type=click.IntRange(1, 16), default=3, show_default=True)
@click.option("--faults", type=click.IntRange(0, 8), default=0, show_default=True)
def bisect(prop: str, arch_name: str, depth: int, faults: int) -> int:
    from mhpcheck import bisect as bis

    _one_of("property", prop, [x.name for x in PROPERTIES])
    _one_of("arch", arch_name, [x.name for x in archs()])
    r = bis.bisect(prop, arch_name, replace(DEFAULT_BOUNDS, depth=depth, faults=faults))
    for era, verdict in r.verdicts:
        click.echo(f"{era:8s} {verdict.value}")
    if r.flip is None:
        click.echo("no flip: the verdict is the same in every era")
        return 0
    click.echo(f"flips between {r.flip[0]} and {r.flip[1]}")
    if r.patch is not None:
        click.echo(f"flipped by {r.patch.key}: {r.patch.commit} {r.patch.title} ({r.patch.version})")
    return 0


def _render(fmt: str, report: Report, context: dict[str, Any], verbose: bool) -> str:
    if fmt == "text":
        return "".join(f"{line}\n" for line in text.render(report, verbose))
    from mhpcheck.report import json_report, junit, sarif

    return {"json": json_report, "junit": junit, "sarif": sarif}[fmt].render(report, context)


def _check_writable(path: Path, option: str) -> None:
    """Fail before any work if a report could not be written there."""
    folder = path.parent
    if not folder.is_dir():
        raise BadInput(f"{option} {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise BadInput(f"{option} {path}: folder {folder} is not writable")
    if path.is_dir():
        raise BadInput(f"{option} {path}: is a folder")


def _write_output(path: Path, rendered: str) -> None:
    try:
        trace.write_atomic(path, rendered)
    except OSError as e:
        raise BadInput(f"{path}: cannot write: {e.strerror or e}") from None


def _effective(ctx: click.Context) -> dict[str, Any]:
    """The options a command ran with, as plain JSON values, for reports and traces."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in sorted(ctx.params.items())}


def command_line() -> str:
    """The command as the user typed it, for trace and report metadata."""
    prog = Path(sys.argv[0]).name if sys.argv else ""
    if prog in ("mhpcheck", "__main__.py"):
        return shlex.join(["mhpcheck", *sys.argv[1:]])
    ctx = click.get_current_context(silent=True)
    return ctx.command_path if ctx is not None else "mhpcheck"


def _write_traces(
    report: Report, directory: Path, bounds_of: Callable[[CellResult], dict], patch: str | None
) -> None:
    """A trace file for every violation and every recorded finding; the report learns their paths."""
    for cell in report.cells:
        for p in cell.properties:
            if p.verdict not in (Verdict.VIOLATED, Verdict.FINDING) or not p.path:
                continue
            doc = trace.build_trace(
                cell.arch,
                cell.variant,
                p.name,
                p.path,
                verdict=p.verdict.value,
                message=p.message,
                bounds=bounds_of(cell),
                engine=cell.engine,
                finding=p.finding,
                command=command_line(),
                patch=patch,
            )
            try:
                p.trace_file = str(trace.write_trace(doc, directory))
            except OSError as e:
                raise InputError(f"--trace-dir {directory}: cannot write: {e.strerror or e}") from None


def _activate(path: str):  # type: ignore[no-untyped-def]
    from mhpcheck import patching

    return patching.activate(path)


@cli.command(name="list", help="List archs, variants, properties, mutants or findings.")
@click.argument(
    "what", type=click.Choice(["archs", "variants", "properties", "mutants", "findings"]), required=False
)
@click.option("--kill-matrix", is_flag=True, help="Print which property kills which seeded bug.")
def list_cmd(what: str | None, kill_matrix: bool) -> int:
    if kill_matrix:
        for line in listing.kill_matrix():
            click.echo(line)
        return 0
    if what is None:
        raise BadInput("list what? one of: archs, variants, properties, mutants, findings")
    lines = {
        "archs": listing.archs,
        "variants": listing.variants,
        "properties": listing.properties,
        "mutants": listing.mutants,
        "findings": listing.findings,
    }[what]()
    for line in lines:
        click.echo(line)
    return 0


@cli.command(help="Predict what a real kernel shows in the QEMU conformance scenarios, from the model.")
@click.option("--kernel", "kernels", multiple=True, help="Kernel (repeatable) [default: all]: 6.1 or 6.12.")
@click.option("--scenario", "scenarios", multiple=True, help="Scenario (repeatable) [default: all].")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def predict(kernels: tuple[str, ...], scenarios: tuple[str, ...], fmt: str) -> int:
    import json

    from mhpcheck import predict as p

    for name in kernels:
        _one_of("kernel", name, list(p.KERNELS))
    for name in scenarios:
        _one_of("scenario", name, list(p.SCENARIOS))
    rows = [
        (kernel, f)
        for kernel in kernels or p.KERNELS
        for scenario in scenarios or p.SCENARIOS
        for f in p.predict(kernel, scenario)
    ]
    if fmt == "json":
        out = [{"kernel": kernel, **dataclasses.asdict(f)} for kernel, f in rows]
        click.echo(json.dumps(out, indent=2))
        return 0
    head = ("kernel", "scenario", "step", "figure", "value")
    cells = [
        (
            kernel,
            f.scenario,
            f.step,
            f.name,
            f"{f.value} {f.unit}" + (f" ±{f.tolerance}" if f.tolerance else ""),
        )
        for kernel, f in rows
    ]
    widths = [max(len(c[i]) for c in (head, *cells)) for i in range(len(head))]
    for c in (head, *cells):
        click.echo("  ".join(x.ljust(w) for x, w in zip(c, widths, strict=True)).rstrip())
    return 0


def run() -> None:
    """Console entry point: one-line errors, exit codes from mhpcheck.exitcodes."""
    try:
        code = cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("mhpcheck: interrupted", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except click.ClickException as e:
        click.echo(f"mhpcheck: error: {e.format_message()}", err=True)
        sys.exit(ExitCode.BAD_INPUT)
    except InputError as e:
        click.echo(f"mhpcheck: error: {e}", err=True)
        sys.exit(ExitCode.BAD_INPUT)
    except KeyboardInterrupt:
        click.echo("mhpcheck: interrupted", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except (InternalError, Exception) as e:
        crash = _save_crash()
        click.echo(f"mhpcheck: internal error: {e}; traceback saved to {crash}", err=True)
        sys.exit(ExitCode.INTERNAL_ERROR)
    sys.exit(code if isinstance(code, int) else 0)


def _save_crash() -> Path:
    out = Path("mhpcheck-out")
    out.mkdir(exist_ok=True)
    path = out / f"crash-{time.strftime('%Y%m%d-%H%M%S')}.txt"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(traceback.format_exc())
    tmp.replace(path)
    return path


@cli.command(
    help="Re-run the actions of trace files on today's model: exit 1 if the property still fails "
    "along them, 0 if it now holds. A trace whose recorded states no longer come out is reported "
    "with its first differing field."
)
@click.argument("traces", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--variant", "variant_name", default=None, help="Replay on this variant instead of the trace's."
)
@click.option(
    "--emit-pytest",
    "emit",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write a standalone pytest regression test that rebuilds the steps (one trace only).",
)
def replay(traces: tuple[str, ...], variant_name: str | None, emit: str | None) -> int:
    from mhpcheck.report import reproducer

    if variant_name is not None:
        _variant(variant_name)
    if emit is not None and len(traces) != 1:
        raise BadInput("--emit-pytest takes exactly one trace")
    if emit is not None:
        _check_writable(Path(emit), "--emit-pytest")
    loaded = [trace.load_trace(t) for t in traces]  # every file is checked before anything runs
    code = ExitCode.HOLDS
    for t in loaded:
        rp = trace.replay_trace(t, variant_name)
        where = f"{t.property} on {t.arch} {rp.variant}"
        if rp.stale:
            click.echo(f"{t.file}: stale: {rp.stale}")
        if rp.reproduces:
            click.echo(f"{t.file}: reproduces: {where} fails after step {rp.failed_at}: {rp.message}")
            code = ExitCode.VIOLATED
        else:
            click.echo(f"{t.file}: no longer fails: {where} holds along the trace's {len(t.path)} steps")
    if emit is not None:
        _write_output(Path(emit), reproducer.pytest_source(loaded[0], variant_name))
        click.echo(f"wrote {emit}")
    return int(code)


@cli.command(
    help="Show a trace: per step the changed fields and kernel calls, the broken claim, and the "
    "physical memory map at the failing step (in the terminal, or as SVG with --svg)."
)
@click.argument("trace_file", type=click.Path(dir_okay=False))
@click.option(
    "--svg", "svg_file", type=click.Path(dir_okay=False), default=None, help="Also draw the map as SVG."
)
@click.option("--step", type=click.IntRange(0, None), default=None, help="Draw the map after this step.")
@click.option(
    "--variant", "variant_name", default=None, help="Replay on this variant instead of the trace's."
)
def show(trace_file: str, svg_file: str | None, step: int | None, variant_name: str | None) -> int:
    from mhpcheck.report import show as view

    if variant_name is not None:
        _variant(variant_name)
    if svg_file is not None:
        _check_writable(Path(svg_file), "--svg")
    rp = trace.replay_trace(trace.load_trace(trace_file), variant_name)
    for line in view.render(rp, step):
        click.echo(line)
    if svg_file is not None:
        _write_output(Path(svg_file), view.svg(rp, step))
        click.echo(f"wrote {svg_file}")
    return int(ExitCode.VIOLATED if rp.reproduces else ExitCode.HOLDS)


@cli.command(
    help="Write the state graph of one cell at small bounds (DOT or GraphML), edges labelled by "
    "transition, every violated property's path in red."
)
@click.option("--arch", "arch_name", default="x86_64", show_default=True)
@click.option("--variant", "variant_name", default="v4.5", show_default=True)
@click.option("--property", "property_names", multiple=True, help="Only these properties (repeatable).")
@click.option("--depth", type=click.IntRange(1, 8), default=2, show_default=True)
@click.option("--sections", type=click.IntRange(1, 16), default=2, show_default=True)
@click.option("--devices", type=click.IntRange(1, 8), default=1, show_default=True)
@click.option("--faults", type=click.IntRange(0, 8), default=0, show_default=True)
@click.option("--max-states", type=click.IntRange(1, None), default=5000, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["dot", "graphml"]), default="dot", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None, help="File [default: stdout].")
def graph(
    arch_name: str,
    variant_name: str,
    property_names: tuple[str, ...],
    depth: int,
    sections: int,
    devices: int,
    faults: int,
    max_states: int,
    fmt: str,
    output: str | None,
) -> int:
    from mhpcheck import graph as state_graph
    from mhpcheck.properties import property_named

    _one_of("arch", arch_name, [x.name for x in archs()])
    _variant(variant_name)
    for p in property_names:
        _one_of("property", p, [x.name for x in PROPERTIES])
    props = [property_named(p) for p in property_names] if property_names else list(PROPERTIES)
    if output is not None:
        _check_writable(Path(output), "--output")
    bounds = replace(
        DEFAULT_BOUNDS,
        depth=depth,
        sections=sections,
        devices=devices,
        faults=faults,
        max_device_sections=min(DEFAULT_BOUNDS.max_device_sections, sections),
    )
    sg = state_graph.state_graph(arch_name, variant_name, bounds, props, max_states)
    text_out = state_graph.to_dot(sg) if fmt == "dot" else state_graph.to_graphml(sg)
    if output is None:
        click.echo(text_out, nl=False)
    else:
        _write_output(Path(output), text_out)
    g = sg.graph
    cut = "" if sg.cell.complete else f", cut by {sg.cell.budget}"
    red = f"; violated: {', '.join(sg.highlighted)}" if sg.highlighted else ""
    click.echo(f"{g.number_of_nodes()} states, {g.number_of_edges()} edges{cut}{red}", err=True)
    return int(ExitCode.INCONCLUSIVE if not sg.cell.complete else ExitCode.HOLDS)


@cli.command(
    help="Boot stock Debian kernels under QEMU (TCG), run hotplug scenarios, and compare what the "
    "kernel shows (MemTotal, MemFree, zone pages, namespace sizes, nr_memmap_pages) with the model's "
    "predictions. Installs the Debian packages it needs (as root) and caches the kernels. Exit 1 on "
    "any mismatch, 3 when QEMU cannot run here or nothing could be compared, 2 on bad names."
)
@click.option(
    "--kernel", "kernel_names", multiple=True, help="Kernel series, 6.1 or 6.12 (repeatable) [default: both]."
)
@click.option("--scenario", "scenario_names", multiple=True, help="Scenario (repeatable) [default: all].")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write the table as JSON there (atomically).",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Unpacked kernels, initramfs images and guest transcripts [default: ~/.cache/mhpcheck/conform].",
)
@click.option(
    "--install/--no-install", default=True, show_default=True, help="apt-get install what is missing."
)
@click.option(
    "--timeout",
    type=click.FloatRange(1, 3600),
    default=300,
    show_default=True,
    help="Seconds one guest boot may take.",
)
def conform(
    kernel_names: tuple[str, ...],
    scenario_names: tuple[str, ...],
    output: str | None,
    cache_dir: str | None,
    install: bool,
    timeout: float,
) -> int:
    import json

    from mhpcheck import predict as model
    from mhpcheck.conform import runner, setup
    from mhpcheck.scenarios import KERNELS, SCENARIOS

    for k in kernel_names:
        _one_of("kernel", k, list(KERNELS))
    for s in scenario_names:
        _one_of("scenario", s, list(SCENARIOS))
    if output is not None:
        _check_writable(Path(output), "--output")
    kernels = [k for k in KERNELS if k in kernel_names] if kernel_names else list(KERNELS)
    scenarios = [s for s in SCENARIOS if s in scenario_names] if scenario_names else list(SCENARIOS)
    t0 = time.perf_counter()
    result = runner.conform(
        kernels,
        scenarios,
        Path(cache_dir) if cache_dir is not None else setup.default_cache_dir(),
        install,
        lambda line: click.echo(line, err=True),
        model.predict,
        timeout,
    )
    if output is not None:
        doc = runner.to_json(result, command_line(), __version__)
        _write_output(Path(output), json.dumps(doc, indent=1) + "\n")
    code = result.exit_code()
    if result.unavailable is not None:
        click.echo(f"mhpcheck: cannot run QEMU guests here: {result.unavailable}", err=True)
        return int(code)
    for line in runner.table(result.rows):
        click.echo(line)
    counts: dict[str, int] = {}
    for r in result.rows:
        counts[r.verdict.value] = counts.get(r.verdict.value, 0) + 1
    summary = ", ".join(f"{n} {v}" for v, n in counts.items())
    boots = ", ".join(f"{r.release} {r.group} {r.wall_s:.1f} s" for r in result.runs)
    click.echo(f"boots: {boots}", err=True)
    click.echo(
        f"{summary}; setup {result.setup_s:.1f} s, total {time.perf_counter() - t0:.1f} s: "
        f"{code.name.lower().replace('_', ' ')} (exit {int(code)})",
        err=True,
    )
    return int(code)
