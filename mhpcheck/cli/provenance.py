"""`mhpcheck provenance`: the model's recorded C against a kernel tree; `--record` writes an era from one."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import click

from mhpcheck.cli.app import BadInput, cli
from mhpcheck.core.errors import InputError
from mhpcheck.report.provenance import provenance_json, provenance_lines
from mhpcheck.review import kernel_source as ks
from mhpcheck.review import provenance as pv


def resolve_tree(kernel_tree: str | None, kernel: str | None, cache_dir: str | None) -> ks.Tree:
    """The tree `--kernel-tree` names, or Debian's linux-source of `--kernel`, fetched into the cache."""
    if (kernel_tree is None) == (kernel is None):
        raise BadInput("give one of --kernel-tree DIR or --kernel VERSION")
    if kernel_tree is not None:
        return ks.local_tree(kernel_tree)
    assert kernel is not None
    cache = Path(cache_dir) if cache_dir is not None else None
    return _fetch(kernel, cache)


def _fetch(series: str, cache: Path | None) -> ks.Tree:
    try:
        return ks.debian_tree(ks.check_series(series), cache, lambda line: click.echo(line, err=True))
    except ks.SourceUnavailable as e:
        click.echo(f"mhpcheck: cannot fetch linux-source-{series} here: {e}", err=True)
        raise SystemExit(3) from None


def recorded_trees(cache_dir: str | None) -> Callable[[str], Path | None]:
    """Where the recorded C is read again for a diff: Debian's tree of that series, fetched if absent."""
    cache = Path(cache_dir) if cache_dir is not None else None

    def tree(series: str) -> Path | None:
        try:
            return ks.debian_tree(series, cache, lambda line: click.echo(line, err=True)).root
        except (ks.SourceUnavailable, InputError):
            return None

    return tree


_TREE_OPTIONS = (
    click.option(
        "--kernel-tree", type=click.Path(file_okay=False), default=None, help="A kernel source tree."
    ),
    click.option(
        "--kernel",
        default=None,
        help="A kernel series, e.g. 6.12: Debian's linux-source-<series> package, fetched and cached.",
    ),
    click.option(
        "--cache-dir",
        type=click.Path(file_okay=False),
        default=None,
        help="Where linux-source packages are unpacked "
        "[default: $KERNEL_SOURCE_CACHE or ~/.cache/kernel-source].",
    ),
)


def tree_options(fn: Callable[..., int]) -> Callable[..., int]:
    for option in reversed(_TREE_OPTIONS):
        fn = option(fn)
    return fn


@cli.command(
    help="Find every kernel function the model follows in a kernel tree and compare it with the C "
    "recorded for the era: same, changed (with the C diff), missing or renamed, or unrecorded. The "
    "era is the tree's own, or the newest before it, unless --variant names one. Exit 0 every "
    "function the same, 1 one changed or missing, 2 bad input, 3 nothing recorded to compare."
)
@tree_options
@click.option("--variant", "era", default=None, help="The era whose recorded C to compare with.")
@click.option("--summary", is_flag=True, help="One line per function, without the C diffs.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option(
    "--record",
    is_flag=True,
    help="Instead of comparing, record the era's C from this tree into model/provenance/ (maintainers).",
)
@click.option(
    "--also",
    multiple=True,
    metavar="KEY",
    help="With --record: a model function (ops.memory_hotplug:page_zone) that serves the era though "
    "the record does not say so yet, as `mhpcheck list functions` measures it.",
)
def provenance(
    kernel_tree: str | None,
    kernel: str | None,
    cache_dir: str | None,
    era: str | None,
    summary: bool,
    fmt: str,
    record: bool,
    also: tuple[str, ...],
) -> int:
    if also and not record:
        raise BadInput("--also: only with --record")
    if era is not None:
        pv.check_era(era)
    if kernel is not None:
        ks.check_series(kernel)
    tree = resolve_tree(kernel_tree, kernel, cache_dir)
    era = era or pv.era_for_kernel(tree.series)
    if record:
        data, notes = pv.record(
            tree.root, tree.origin, tree.release, era, pv.load_checked(new_functions=True), also=also
        )
        for note in notes:
            click.echo(f"{era}: {note}", err=True)
        written = pv.write(data)
        click.echo(f"recorded {era} from {tree.origin} ({tree.release}): {len(written)} files changed")
        return 0
    report = pv.check_tree(tree.root, tree.origin, tree.release, era, recorded_trees(cache_dir))
    if fmt == "json":
        click.echo(json.dumps(provenance_json(report), indent=1))
    else:
        for line in provenance_lines(report, diffs=not summary):
            click.echo(line)
    return report.exit_code
