"""`mhpcheck review` (a C patch against the model) and `mhpcheck patch new` (a scaffold to edit)."""

from __future__ import annotations

from pathlib import Path

import click

from mhpcheck.cli.app import BadInput, check_writable, cli, write_output
from mhpcheck.cli.provenance import resolve_tree, tree_options
from mhpcheck.core.errors import InputError
from mhpcheck.core.inputs import read_text
from mhpcheck.report.provenance import review_lines
from mhpcheck.review import cpatch
from mhpcheck.review import kernel_source as ks
from mhpcheck.review import provenance as pv
from mhpcheck.review.csource import read_source
from mhpcheck.review.scaffold import scaffold, scaffold_name

MAX_PATCH_BYTES = 16 << 20  # a C patch; the largest mm/ series diff of a release is a few MiB


@cli.command(
    help="Review a C patch against the model: the kernel functions it changes that the model follows "
    "(each with its C diff and a scaffold patch file holding the model's function of the base era, "
    "ready to edit for `mhpcheck diff --patch`), and those it touches that the model does not "
    "follow. Give the patch with --diff (against --kernel-tree, or Debian's tree of the base era), "
    "or a tree with the change in it with --kernel-tree alone (compared with Debian's tree of the "
    "base era). Exit 0; 2 on bad input; 3 when the base tree cannot be fetched here."
)
@tree_options
@click.option("--diff", "diff_file", type=click.Path(dir_okay=False), default=None, help="The patch.")
@click.option(
    "--base", "base", default=None, help="The era the patch is reviewed against [default: the newest]."
)
@click.option(
    "--output",
    "-o",
    "out_dir",
    type=click.Path(file_okay=False),
    default="mhpcheck-out/scaffolds",
    show_default=True,
    help="Where the scaffolds are written, one per modelled function.",
)
def review(
    kernel_tree: str | None,
    kernel: str | None,
    cache_dir: str | None,
    diff_file: str | None,
    base: str | None,
    out_dir: str,
) -> int:
    if base is not None:
        pv.check_era(base)
    if kernel is not None:
        ks.check_series(kernel)
    if diff_file is None and kernel_tree is None:
        raise BadInput("give --diff FILE.patch, or --kernel-tree DIR holding the change")
    if diff_file is not None:
        patch = read_text(diff_file, MAX_PATCH_BYTES, "a patch")
        given = resolve_tree(kernel_tree, kernel, cache_dir) if kernel_tree or kernel else None
        era = base or (pv.era_for_kernel(given.series) if given is not None else pv.ERA_NAMES[-1])
        before = given or _debian_base(era, cache_dir)
    else:
        if kernel is not None:
            raise BadInput(
                "--kernel names the base tree of a --diff; a --kernel-tree alone is compared with its era's"
            )
        assert kernel_tree is not None
        changed = ks.local_tree(kernel_tree)
        era = base or pv.era_for_kernel(changed.series)
        before = _debian_base(era, cache_dir)
        patch = cpatch.tree_diff(before.root, changed.root)
        if not patch:
            raise BadInput(
                f"{changed.root}: no C file differs from {before.origin} in the folders the model reads"
            )

    def read(rel: str) -> str | None:
        p = before.root / rel
        return read_source(p) if p.is_file() else None

    data = pv.load_checked()
    rv = cpatch.review(patch, read, era, data)
    out = Path(out_dir)
    written: dict[str, str] = {}
    if rv.modelled:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise BadInput(f"--output {out}: cannot create: {e.strerror or e}") from None
    for t in rv.modelled:
        assert t.model is not None
        path = out / scaffold_name(t.model)
        write_output(
            check_writable(str(path), "--output"),
            scaffold(t.model, era, t.c_diff, f"against {before.origin}, {before.release}"),
        )
        written[t.model.key] = str(path)
    for line in review_lines(rv, written):
        click.echo(line)
    return 0


def _debian_base(era: str, cache_dir: str | None) -> ks.Tree:
    """Debian's tree of the base era's series; bad input, saying what to give instead, if there is none."""
    series = era.lstrip("v")
    try:
        return resolve_tree(None, series, cache_dir)
    except InputError as e:
        raise BadInput(
            f"no Debian linux-source-{series} for the base era {era} ({e}); give the base tree with "
            "--kernel-tree and the change with --diff"
        ) from None


@cli.group(help="Patch files for design review.")
def patch() -> None:
    pass


@patch.command(
    name="new",
    help="Write a patch file holding the model's function for KERNEL_FUNCTION (e.g. "
    "mm/memory_hotplug.c:__add_pages, or __add_pages), ready to edit: loaded unchanged it changes "
    "nothing.",
)
@click.argument("kernel_function")
@click.option("--variant", "era", default=None, help="The era it is written for [default: the newest].")
@click.option("--output", "-o", "output", type=click.Path(dir_okay=False), required=True, help="The file.")
def patch_new(kernel_function: str, era: str | None, output: str) -> int:
    era = pv.check_era(era) if era is not None else pv.ERA_NAMES[-1]
    fn = pv.model_function(kernel_function)
    path = Path(output)
    output_to = check_writable(output, "--output")
    data, _ = pv.load()
    rec = data.get(fn.key)
    if rec is not None and era not in rec.eras:
        eras = ", ".join(rec.eras) or "none"
        click.echo(f"mhpcheck: warning: {fn.kernel} is not called at {era} (its eras: {eras})", err=True)
    write_output(output_to, scaffold(fn, era))
    click.echo(f"wrote {path}: {fn.kernel} as the model runs it at {era}")
    return 0
