"""`mhpcheck bisect`: the first era where a property's verdict flips, and the commit that flipped it."""

from __future__ import annotations

import click

from mhpcheck.cli.app import BadInput, cli
from mhpcheck.cli.options import Run, explore_options
from mhpcheck.report.review import bisect_lines
from mhpcheck.review import bisect as bis


@cli.command(
    help="The first era where a property's verdict flips on an arch, and the commit that flipped it."
)
@explore_options
def bisect(run: Run) -> int:
    if len(run.properties) != 1 or len(run.archs) != 1:
        raise BadInput("bisect takes one --property and one --arch")
    if run.variants:
        run.refuse("--variant", "bisect walks every era itself")
    if run.engine == "both":
        run.refuse("--engine", "bisect asks one engine for each era's verdict")
    r = bis.bisect(
        run.properties[0],
        run.archs[0],
        run.bounds,
        run.engine,
        run.time_budget,
        run.max_states,
        run.symmetry,
        run.jobs,
    )
    for line in bisect_lines(r):
        click.echo(line)
    return 0
