"""`mhpcheck predict` and `mhpcheck conform`: the model's figures, and a real kernel's beside them."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import click

from mhpcheck import __version__
from mhpcheck.cli.app import check_writable, cli, command_line, write_output
from mhpcheck.config import check_name
from mhpcheck.report import conform as table


@cli.command(help="Predict what a real kernel shows in the QEMU conformance scenarios, from the model.")
@click.option("--kernel", "kernels", multiple=True, help="Kernel (repeatable) [default: all]: 6.1 or 6.12.")
@click.option("--scenario", "scenarios", multiple=True, help="Scenario (repeatable) [default: all].")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def predict(kernels: tuple[str, ...], scenarios: tuple[str, ...], fmt: str) -> int:
    from mhpcheck.conform import predict as p

    for name in kernels:
        check_name("kernel", name, list(p.KERNELS))
    for name in scenarios:
        check_name("scenario", name, list(p.SCENARIOS))
    rows = [
        (kernel, f)
        for kernel in kernels or p.KERNELS
        for scenario in scenarios or p.SCENARIOS
        for f in p.predict(kernel, scenario)
    ]
    if fmt == "json":
        out = [{"kernel": kernel, **dataclasses.asdict(f)} for kernel, f in rows]
        click.echo(json.dumps(out, indent=2))
        return 0
    for line in table.predictions(rows):
        click.echo(line)
    return 0


@cli.command(
    help="Boot stock Debian kernels under QEMU (TCG), run hotplug scenarios, and compare what the "
    "kernel shows (MemTotal, MemFree, zone pages, namespace sizes, nr_memmap_pages) with the model's "
    "predictions. Installs the Debian packages it needs (as root) and caches the kernels. Exit 1 on "
    "any mismatch, 3 when QEMU cannot run here or nothing could be compared, 2 on bad names."
)
@click.option(
    "--kernel", "kernel_names", multiple=True, help="Kernel series, 6.1 or 6.12 (repeatable) [default: both]."
)
@click.option("--scenario", "scenario_names", multiple=True, help="Scenario (repeatable) [default: all].")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write the table as JSON there (atomically).",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Unpacked kernels, initramfs images and guest transcripts [default: ~/.cache/mhpcheck/conform].",
)
@click.option(
    "--install/--no-install", default=True, show_default=True, help="apt-get install what is missing."
)
@click.option(
    "--timeout",
    type=click.FloatRange(1, 3600),
    default=300,
    show_default=True,
    help="Seconds one guest boot may take.",
)
def conform(
    kernel_names: tuple[str, ...],
    scenario_names: tuple[str, ...],
    output: str | None,
    cache_dir: str | None,
    install: bool,
    timeout: float,
) -> int:
    from mhpcheck.conform import predict as model
    from mhpcheck.conform import runner, setup
    from mhpcheck.conform.scenarios import KERNELS, SCENARIOS

    for k in kernel_names:
        check_name("kernel", k, list(KERNELS))
    for s in scenario_names:
        check_name("scenario", s, list(SCENARIOS))
    output_to = check_writable(output, "--output") if output is not None else None
    kernels = [k for k in KERNELS if k in kernel_names] if kernel_names else list(KERNELS)
    scenarios = [s for s in SCENARIOS if s in scenario_names] if scenario_names else list(SCENARIOS)
    t0 = time.perf_counter()
    result = runner.conform(
        kernels,
        scenarios,
        Path(cache_dir) if cache_dir is not None else setup.default_cache_dir(),
        install,
        lambda line: click.echo(line, err=True),
        model.predict,
        timeout,
    )
    if output_to is not None:
        doc = runner.to_json(result, command_line(), __version__)
        write_output(output_to, json.dumps(doc, indent=1) + "\n")
    code = result.exit_code()
    if result.unavailable is not None:
        click.echo(f"mhpcheck: cannot run QEMU guests here: {result.unavailable}", err=True)
        return int(code)
    for line in table.table(result.rows):
        click.echo(line)
    counts: dict[str, int] = {}
    for r in result.rows:
        counts[r.verdict.value] = counts.get(r.verdict.value, 0) + 1
    summary = ", ".join(f"{n} {v}" for v, n in counts.items())
    boots = ", ".join(f"{r.release} {r.group} {r.wall_s:.1f} s" for r in result.runs)
    click.echo(f"boots: {boots}", err=True)
    click.echo(
        f"{summary}; setup {result.setup_s:.1f} s, total {time.perf_counter() - t0:.1f} s: "
        f"{code.name.lower().replace('_', ' ')} (exit {int(code)})",
        err=True,
    )
    return int(code)
