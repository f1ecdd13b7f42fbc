"""`mhpcheck simulate`: random walks far deeper than exhaustive search."""

from __future__ import annotations

import click

from mhpcheck.checker import SIMULATION_WALKS, CheckRequest
from mhpcheck.cli.app import cli
from mhpcheck.cli.check import output_options, run_and_report
from mhpcheck.cli.options import Run, explore_options
from mhpcheck.core.exitcodes import HELP as EXIT_HELP


@cli.command(
    help="Random walks far deeper than exhaustive search: a Hypothesis state machine with one rule "
    "per transition and every property judged after each step; what it finds is shrunk, minimised "
    "and written as a trace. Exit 1 on a violation, 3 otherwise: walks sample, they prove nothing."
    f"\n\n{EXIT_HELP}"
)
@explore_options
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True)
@click.option(
    "--runs",
    type=click.IntRange(1, 10**7),
    default=SIMULATION_WALKS,
    show_default=True,
    help="Walks per cell.",
)
@output_options
def simulate(
    run: Run, seed: int, runs: int, trace_dir: str, fmt: str, output: str | None, verbose: bool
) -> int:
    if run.engine != "explicit":
        run.refuse("--engine", "simulate walks the concrete model, it has no other engine")
    if run.symmetry:
        run.refuse("--symmetry", "walks are not reduced by symmetry; use check --symmetry")
    if run.max_states is not None:
        run.refuse("--max-states", "walks are bounded by --runs and --depth")
    req = CheckRequest(
        run.archs,
        run.variants,
        run.properties,
        run.bounds,
        run.max_states,
        run.time_budget,
        jobs=run.jobs,
        symmetry=run.symmetry,
        engine="simulation",
        walks=(runs, seed),
    )
    what = f"simulation: {runs} walks of up to {run.bounds.depth} steps from seed {seed}"
    return run_and_report(req, what, None, trace_dir, fmt, output, verbose)
