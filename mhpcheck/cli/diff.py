"""`mhpcheck diff`: what a patch (or a second variant) changes, classified."""

from __future__ import annotations

from pathlib import Path

import click

from mhpcheck import patching
from mhpcheck.cache import CellCache
from mhpcheck.checker import DEFAULT_VARIANTS, variant_names_of
from mhpcheck.cli.app import BadInput, cli
from mhpcheck.cli.check import cache_options
from mhpcheck.cli.options import Run, explore_options
from mhpcheck.config import arch_names
from mhpcheck.core.exitcodes import ExitCode
from mhpcheck.model.variants import ALL_ERAS
from mhpcheck.report.review import diff_lines, unreached_lines
from mhpcheck.review.diff import REGRESSION, DiffRequest, diff_all


@cli.command(
    help="Explore two variants (or a variant and a patch file) over the same sequences and report "
    "every difference, classified as fix, regression or behaviour change. Exit 1 on a regression, "
    "3 if a budget cut an exploration short."
)
@explore_options
@click.option(
    "--patch",
    "patch_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="A patch file: B is each --variant with it applied.",
)
@cache_options
def diff(run: Run, patch_file: str | None, cache: bool, cache_dir: str) -> int:
    if run.engine != "explicit":
        run.refuse("--engine", "diff explores both kernels state by state with the explicit engine")
    if run.symmetry:
        run.refuse("--symmetry", "diff compares two kernels state by state and does not reduce by symmetry")
    if run.properties:
        run.refuse("--property", "diff judges every property")
    pairs: list[tuple[str, str]]
    if patch_file is not None:
        if ALL_ERAS not in run.variants and len(run.variants) > 1:
            raise BadInput("with --patch give one --variant (or --variant eras)")
        patch = patching.activate(patch_file)
        pairs = [(v, f"{v}@{patch.name}") for v in variant_names_of_run(run)]
    elif len(run.variants) == 2 and ALL_ERAS not in run.variants:
        pairs = [(run.variants[0], run.variants[1])]
    else:
        raise BadInput("give two --variant, or one --variant (or --variant eras) and --patch FILE")
    requests = [
        DiffRequest(arch, a, b, run.bounds, patch_file, run.time_budget, run.max_states)
        for a, b in pairs
        for arch in run.archs or tuple(arch_names())
    ]
    # check's cache, read only: an arch whose unpatched run reaches nothing the patch replaces
    results = diff_all(requests, run.jobs, CellCache(Path(cache_dir)) if cache and patch_file else None)
    for line in diff_lines(results):
        click.echo(line)
    if patch_file is not None:
        totals: dict[str, int] = {}
        for r in results:
            for name, n in r.patch_calls.items():
                totals[name] = totals.get(name, 0) + n
        for line in unreached_lines(sorted(n for n, c in totals.items() if c == 0), patch_file):
            click.echo(line, err=True)
    if any(REGRESSION in r.differences for r in results):
        return int(ExitCode.VIOLATED)
    if any(r.budget for r in results):
        return int(ExitCode.INCONCLUSIVE)
    return int(ExitCode.HOLDS)


def variant_names_of_run(run: Run) -> tuple[str, ...]:
    """The variants `--variant` names, 'eras' expanded; the newest era when none is given."""
    from mhpcheck.checker import CheckRequest

    return variant_names_of(CheckRequest(variants=run.variants or DEFAULT_VARIANTS))
