"""`mhpcheck check`: the matrix arch × variant × property, its traces and its report."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path
from typing import Any

import click

from mhpcheck import __version__, trace
from mhpcheck.checker import CheckRequest, cells_of, run_check, unreached
from mhpcheck.cli.app import (
    check_folder,
    check_writable,
    cli,
    command_line,
    config_file,
    effective,
    write_output,
)
from mhpcheck.cli.options import Run, explore_options
from mhpcheck.config import FORMATS
from mhpcheck.core import outputs
from mhpcheck.core.errors import InputError, Interrupted
from mhpcheck.core.exitcodes import HELP as EXIT_HELP
from mhpcheck.core.exitcodes import interrupted_by
from mhpcheck.core.results import CellResult, Report, Verdict
from mhpcheck.report import text
from mhpcheck.report.review import unreached_lines


def output_options(fn: Any) -> Any:
    """Where traces and the report go, and in which format (the commands that write a report)."""
    for option in reversed(
        (
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
                type=click.Choice(FORMATS),
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
    ):
        fn = option(fn)
    return fn


def cache_options(fn: Any) -> Any:
    """--cache/--no-cache and --cache-dir: check keeps judged cells there, and diff reads them."""
    fn = click.option(
        "--cache-dir", type=click.Path(file_okay=False), default="mhpcheck-out/cache", show_default=True
    )(fn)
    return click.option(
        "--cache/--no-cache",
        default=True,
        show_default=True,
        help="Reuse judged cells of an identical earlier run (same model source, settings and version).",
    )(fn)


@cli.command(help=f"Check properties over the matrix arch × variant.\n\n{EXIT_HELP}")
@explore_options
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
@output_options
@cache_options
def check(
    run: Run,
    executor: str,
    patch_file: str | None,
    trace_dir: str,
    fmt: str,
    output: str | None,
    cache: bool,
    cache_dir: str,
    verbose: bool,
) -> int:
    req = CheckRequest(
        run.archs,
        run.variants,
        run.properties,
        run.bounds,
        run.max_states,
        run.time_budget,
        run.jobs,
        patch_file,
        run.symmetry,
        cache_dir if cache else None,
        executor,
        run.engine,
    )
    return run_and_report(req, f"depth {run.bounds.depth}", patch_file, trace_dir, fmt, output, verbose)


def run_and_report(
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
    # where every file goes is checked before any work: a run is never lost to a bad path
    output_to = check_writable(output, "--output") if output is not None else None
    traces_to = check_folder(trace_dir, "--trace-dir")
    # temporary files of a run that was killed while it wrote (the cache cleans its own)
    outputs.clean_stale(traces_to)
    if output_to is not None and output_to.kind == outputs.FILE:
        outputs.clean_stale(output_to.path.parent)
    t0 = time.perf_counter()
    click.echo(
        f"mhpcheck {__version__}: {what}, {b.sections} sections, {b.devices} devices of up to "
        f"{b.max_device_sections} sections, {b.faults} allocation fault(s), partial failures "
        # the symbolic engine's altmaps of every value include those that run out part-way
        f"{'on' if b.partial_failures or req.engine == 'symbolic' else 'off'}",
        err=True,
    )
    total = len(cells_of(req)[0])
    report = Report(planned=total)
    stopped: KeyboardInterrupt | None = None
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
    except KeyboardInterrupt as e:
        # SIGINT or SIGTERM: the pool's workers are gone; keep what is done, the traces and the
        # report of the cells that finished, written whole, the run's verdict "interrupted"
        stopped = e
        report.interrupted = interrupted_by(e.signum if isinstance(e, Interrupted) else signal.SIGINT)
    try:
        write_traces(report, traces_to, patch=patch_file)
        traces_failed = None
    except InputError as e:  # the report is still written, then the failure is reported
        traces_failed = e
    context = {
        "command": command_line(),
        "config_file": config_file(),
        "config": effective(click.get_current_context()),
        "interrupted": stopped is not None,
    }
    lines = list(text.render(report, verbose))
    rendered = "".join(f"{line}\n" for line in lines) if fmt == "text" else _render(fmt, report, context)
    to_stdout = output_to is None or output_to.kind == outputs.STDOUT
    if output_to is not None and output_to.kind != outputs.STDOUT:
        write_output(output_to, rendered)
    if to_stdout and fmt != "text":
        click.echo(rendered, nl=False)
    else:
        for line in lines:
            click.echo(line)
    if traces_failed is not None:
        raise traces_failed
    if stopped is not None:
        click.echo(
            f"interrupted after {len(report.cells)} of {total} cells; their results are kept", err=True
        )
        raise stopped
    if patch_file is not None:
        for line in unreached_lines(unreached(report.cells), patch_file):
            click.echo(line, err=True)
    code = report.exit_code()
    # cells of a patch file that none of its replacements reach stay cached across edits of them,
    # and are taken from the unpatched cells the first time
    untouched = f", {report.untouched} of them out of the patch's reach" if report.untouched else ""
    notes = [f"{report.cached} from the cache{untouched}"] if report.cached else []
    if report.derived:
        notes.append(f"{report.derived} out of the patch's reach, as unpatched")
    if report.as_era:
        # unpatched cells whose run asked nothing of their variant that an earlier one answers
        # otherwise: that cell's run, judged again (checker.as_era())
        notes.append(f"{report.as_era} the same run as another era's")
    if report.cells and report.cached == len(report.cells):
        notes.append("re-checked nothing")
    from_cache = f" ({', '.join(notes)})" if notes else ""
    click.echo(
        f"{len(report.cells)} cells{from_cache}, {sum(c.states for c in report.cells)} states in "
        f"{time.perf_counter() - t0:.1f} s: {code.name.lower().replace('_', ' ')} (exit {int(code)})",
        err=True,
    )
    return int(code)


def _render(fmt: str, report: Report, context: dict[str, Any]) -> str:
    from mhpcheck.report import json_report, junit, sarif

    return {"json": json_report, "junit": junit, "sarif": sarif}[fmt].render(report, context)


def write_traces(report: Report, directory: Path, patch: str | None) -> None:
    """A trace file for every violation and every recorded finding; the report learns their paths.
    A trace of a patched kernel records the patch file's path and sha256, never its code."""
    record = trace.patch_record(patch) if patch is not None else None
    for cell in report.cells:
        for p in cell.properties:
            if p.verdict not in (Verdict.VIOLATED, Verdict.FINDING) or not p.steps:
                continue
            doc = trace.build_trace(cell, p, command=command_line(), patch=record)
            try:
                p.trace_file = str(trace.write_trace(doc, directory))
            except OSError as e:
                raise InputError(f"--trace-dir {directory}: cannot write: {e.strerror or e}") from None
