"""`mhpcheck list`: archs, variants, properties, mutants, findings, functions, the kill matrix."""

from __future__ import annotations

import click

from mhpcheck.checker import default_jobs
from mhpcheck.cli.app import BadInput, cli
from mhpcheck.config import check_variant
from mhpcheck.model.variants import ALL_ERAS, ERAS, Variant, variant_named
from mhpcheck.report import listing

_WHAT = ("archs", "variants", "properties", "mutants", "findings", "functions")


@cli.command(
    name="list",
    help="List archs, variants, properties, mutants, findings, or the functions a patch file may "
    "replace (with the eras whose paths run each, measured at small bounds).",
)
@click.argument("what", type=click.Choice(_WHAT), required=False)
@click.option("--kill-matrix", is_flag=True, help="Print which property kills which seeded bug.")
@click.option(
    "--variant",
    "variant_names",
    multiple=True,
    help=f"functions: only these eras [default: {ALL_ERAS}].",
)
@click.option("--jobs", type=click.IntRange(1, 256), default=None, help="functions: cells in parallel.")
def list_cmd(what: str | None, kill_matrix: bool, variant_names: tuple[str, ...], jobs: int | None) -> int:
    if kill_matrix:
        for line in listing.kill_matrix():
            click.echo(line)
        return 0
    if what is None:
        raise BadInput(f"list what? one of: {', '.join(_WHAT)}")
    if what == "functions":
        from mhpcheck.review.functions import listing as functions

        eras: list[Variant] = []
        for name in variant_names or (ALL_ERAS,):
            check_variant(name)
            eras.extend(ERAS if name == ALL_ERAS else [variant_named(name)])
        for line in listing.functions(functions(list(dict.fromkeys(eras)), jobs or default_jobs())):
            click.echo(line)
        return 0
    if variant_names:
        raise BadInput("--variant: only `list functions` takes it")
    for line in getattr(listing, what)():
        click.echo(line)
    return 0
