"""`mhpcheck graph`: the state graph of one cell as DOT or GraphML, violations in red."""

from __future__ import annotations

import click

from mhpcheck.cli.app import BadInput, check_writable, cli, write_output
from mhpcheck.cli.options import Run, explore_options
from mhpcheck.core.exitcodes import ExitCode
from mhpcheck.engines import graph as state_graph
from mhpcheck.engines.cell import Cell
from mhpcheck.properties import PROPERTIES, property_named

GRAPH_MAX_STATES = 20_000  # a picture of more states is no picture


@cli.command(
    help="Write the state graph of one cell (DOT or GraphML), edges labelled by transition, every "
    "violated property's path in red. One --arch and one --variant [default: x86_64 at v4.5]; "
    f"without --max-states it stops at {GRAPH_MAX_STATES} states (exit 3)."
)
@explore_options
@click.option("--format", "fmt", type=click.Choice(["dot", "graphml"]), default="dot", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None, help="File [default: stdout].")
def graph(run: Run, fmt: str, output: str | None) -> int:
    if len(run.archs) > 1 or len(run.variants) > 1:
        raise BadInput("graph draws one cell: give at most one --arch and one --variant")
    if run.engine != "explicit":
        run.refuse("--engine", "the state graph is the explicit engine's")
    if run.symmetry:
        run.refuse("--symmetry", "the graph draws every state, unreduced")
    arch = run.archs[0] if run.archs else "x86_64"
    variant = run.variants[0] if run.variants else "v4.5"
    if variant == "eras":
        raise BadInput("graph draws one cell: name one era, not 'eras'")
    props = [property_named(p) for p in run.properties] if run.properties else list(PROPERTIES)
    output_to = check_writable(output, "--output") if output is not None else None
    cell = Cell(arch, variant, run.bounds, props)
    sg = state_graph.state_graph(cell, run.max_states or GRAPH_MAX_STATES, run.time_budget)
    text_out = state_graph.to_dot(sg) if fmt == "dot" else state_graph.to_graphml(sg)
    if output_to is None:
        click.echo(text_out, nl=False)
    else:
        write_output(output_to, text_out)
    g = sg.graph
    cut = "" if sg.cell.complete else f", cut by {sg.cell.budget}"
    red = f"; violated: {', '.join(sg.highlighted)}" if sg.highlighted else ""
    click.echo(f"{g.number_of_nodes()} states, {g.number_of_edges()} edges{cut}{red}", err=True)
    return int(ExitCode.INCONCLUSIVE if not sg.cell.complete else ExitCode.HOLDS)
