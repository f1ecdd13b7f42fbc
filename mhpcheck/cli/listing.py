"""`mhpcheck list`: archs, variants, properties, mutants, findings, the kill matrix."""

from __future__ import annotations

import click

from mhpcheck.cli.app import BadInput, cli
from mhpcheck.report import listing

_WHAT = ("archs", "variants", "properties", "mutants", "findings")


@cli.command(name="list", help="List archs, variants, properties, mutants or findings.")
@click.argument("what", type=click.Choice(_WHAT), required=False)
@click.option("--kill-matrix", is_flag=True, help="Print which property kills which seeded bug.")
def list_cmd(what: str | None, kill_matrix: bool) -> int:
    if kill_matrix:
        for line in listing.kill_matrix():
            click.echo(line)
        return 0
    if what is None:
        raise BadInput(f"list what? one of: {', '.join(_WHAT)}")
    for line in getattr(listing, what)():
        click.echo(line)
    return 0
