"""`mhpcheck replay` and `mhpcheck show`: a trace re-run on today's model, as text, SVG or a test."""

from __future__ import annotations

import click

from mhpcheck import trace
from mhpcheck.cli.app import BadInput, check_writable, cli, write_output
from mhpcheck.config import check_variant
from mhpcheck.core.exitcodes import ExitCode

_VARIANT_HELP = "Replay on this variant instead of the trace's (one era, not 'eras')."
_PATCH_HELP = (
    "The patch file a trace of a patched kernel was taken with (its sha256 must match the "
    "trace's). A patch file is Python code and runs with your rights: a trace never names one to run."
)


@cli.command(
    help="Re-run the actions of trace files on today's model: exit 1 if the property still fails "
    "along them, 0 if it now holds. A trace whose recorded states no longer come out is reported "
    "with its first differing field; a step the environment does not offer is bad input (exit 2)."
)
@click.argument("traces", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--variant", "variant_name", default=None, help=_VARIANT_HELP)
@click.option("--patch", "patch_file", type=click.Path(dir_okay=False), default=None, help=_PATCH_HELP)
@click.option(
    "--emit-pytest",
    "emit",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write a standalone pytest regression test that rebuilds the steps (one trace only).",
)
def replay(
    traces: tuple[str, ...], variant_name: str | None, patch_file: str | None, emit: str | None
) -> int:
    from mhpcheck.report import reproducer

    if variant_name is not None:
        check_variant(variant_name, eras=False)
    if emit is not None and len(traces) != 1:
        raise BadInput("--emit-pytest takes exactly one trace")
    emit_to = check_writable(emit, "--emit-pytest") if emit is not None else None
    loaded = [trace.load_trace(t) for t in traces]  # every file is checked before anything runs
    for t in loaded:
        trace.check_patch(t, patch_file, variant_name)
    code = ExitCode.HOLDS
    for t in loaded:
        rp = trace.replay_trace(t, variant_name, patch_file)
        where = f"{t.property} on {t.arch} {rp.variant}"
        if rp.stale:
            click.echo(f"{t.file}: stale: {rp.stale}")
        if rp.reproduces:
            click.echo(f"{t.file}: reproduces: {where} fails after step {rp.failed_at}: {rp.message}")
            code = ExitCode.VIOLATED
        else:
            click.echo(f"{t.file}: no longer fails: {where} holds along the trace's {len(t.path)} steps")
    if emit_to is not None:
        write_output(emit_to, reproducer.pytest_source(loaded[0], variant_name, patch_file))
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
@click.option("--variant", "variant_name", default=None, help=_VARIANT_HELP)
@click.option("--patch", "patch_file", type=click.Path(dir_okay=False), default=None, help=_PATCH_HELP)
def show(
    trace_file: str, svg_file: str | None, step: int | None, variant_name: str | None, patch_file: str | None
) -> int:
    from mhpcheck.report import show as view

    if variant_name is not None:
        check_variant(variant_name, eras=False)
    svg_to = check_writable(svg_file, "--svg") if svg_file is not None else None
    rp = trace.replay_trace(trace.load_trace(trace_file), variant_name, patch_file)
    for line in view.render(rp, step):
        click.echo(line)
    if svg_to is not None:
        write_output(svg_to, view.svg(rp, step))
        click.echo(f"wrote {svg_file}")
    return int(ExitCode.VIOLATED if rp.reproduces else ExitCode.HOLDS)
