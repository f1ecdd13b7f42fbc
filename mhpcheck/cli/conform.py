"""`mhpcheck predict` and `mhpcheck conform`: the model's figures, and a real kernel's beside them."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click

from mhpcheck import __version__
from mhpcheck.cli.app import check_writable, cli, command_line, write_output
from mhpcheck.config import check_name
from mhpcheck.core.errors import InputError
from mhpcheck.core.outputs import Target
from mhpcheck.report import conform as table


@cli.command(help="Predict what a real kernel shows in the QEMU conformance scenarios, from the model.")
@click.option(
    "--kernel", "kernels", multiple=True, help="Kernel (repeatable) [default: all]: 6.1, 6.12 or 7.2."
)
@click.option("--scenario", "scenarios", multiple=True, help="Scenario (repeatable) [default: all].")
@click.option(
    "--arch",
    "arch",
    default="x86_64",
    show_default=True,
    help="Guest arch: x86_64, arm64-4k or arm64-16k (arm64 runs the NVDIMM namespace scenarios).",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def predict(kernels: tuple[str, ...], scenarios: tuple[str, ...], arch: str, fmt: str) -> int:
    from mhpcheck.conform import predict as p

    check_name("arch", arch, list(p.ARCHES))
    for name in kernels:
        check_name("kernel", name, list(p.KERNELS))
    for name in scenarios:
        check_name("scenario", name, list(p.ARCH_SCENARIOS[arch]))
    rows = [
        (kernel, f)
        for kernel in kernels or p.KERNELS
        for scenario in scenarios or p.ARCH_SCENARIOS[arch]
        for f in p.predict(kernel, scenario, arch)
    ]
    if fmt == "json":
        out = [{"arch": arch, "kernel": kernel, **dataclasses.asdict(f)} for kernel, f in rows]
        click.echo(json.dumps(out, indent=2))
        return 0
    for line in table.predictions(rows):
        click.echo(line)
    return 0


@cli.command(
    help="Boot stock Debian kernels under QEMU (TCG), run hotplug scenarios, and compare what the "
    "kernel shows (MemTotal, MemFree, zone pages, namespace sizes, nr_memmap_pages) with the model's "
    "predictions. With --findings, run each recorded finding's reproducer instead, on the kernels "
    "before and after its fix, and say per kernel whether it showed. Installs the Debian packages "
    "it needs (as root) and caches the kernels. Exit 1 on any mismatch (a finding showing where it "
    "should not, or not where it should), 3 when QEMU cannot run here or nothing could be "
    "compared, 2 on bad names."
)
@click.option(
    "--kernel",
    "kernel_names",
    multiple=True,
    help="Kernel series, 6.1, 6.12 or 7.2 (repeatable) [default: all the arch has].",
)
@click.option("--scenario", "scenario_names", multiple=True, help="Scenario (repeatable) [default: all].")
@click.option(
    "--arch",
    "arch_names",
    multiple=True,
    help="Guest arch (repeatable): x86_64, arm64-4k or arm64-16k "
    "[default: x86_64; with --findings, every arch].",
)
@click.option(
    "--findings",
    is_flag=True,
    help="Run the recorded findings' reproducers instead of the figure scenarios.",
)
@click.option(
    "--finding",
    "finding_names",
    multiple=True,
    help="With --findings: only this finding (repeatable) [default: all].",
)
@click.option(
    "--build/--no-build",
    default=True,
    show_default=True,
    help="With --findings: build the pre-fix arm64 kernel from Debian's source when the cache lacks "
    "it (about 20 minutes on 2 cores, once).",
)
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
    arch_names: tuple[str, ...],
    findings: bool,
    finding_names: tuple[str, ...],
    build: bool,
    output: str | None,
    cache_dir: str | None,
    install: bool,
    timeout: float,
) -> int:
    from mhpcheck.conform import predict as model
    from mhpcheck.conform import runner, setup
    from mhpcheck.conform.findings import REPRODUCERS
    from mhpcheck.conform.scenarios import ARCHES, KERNELS, SCENARIOS

    for a in arch_names:
        check_name("arch", a, list(ARCHES))
    for k in kernel_names:
        check_name("kernel", k, list(KERNELS))
    for s in scenario_names:
        check_name("scenario", s, list(SCENARIOS))
    for f in finding_names:
        check_name("finding", f, [r.finding for r in REPRODUCERS])
    if (finding_names or not build) and not findings:
        raise InputError("--finding and --no-build go with --findings")
    if findings and (kernel_names or scenario_names):
        raise InputError("--findings runs each finding on its own kernels: drop --kernel and --scenario")
    output_to = check_writable(output, "--output") if output is not None else None
    cache = Path(cache_dir) if cache_dir is not None else setup.default_cache_dir()
    log = lambda line: click.echo(line, err=True)  # noqa: E731
    t0 = time.perf_counter()
    if findings:
        arches = [a for a in ARCHES if a in arch_names] if arch_names else None
        fresult = runner.run_findings(cache, install, build, log, timeout, arches, finding_names)
        return _finish(
            fresult,
            runner.findings_json,
            output_to,
            lambda: table.findings(fresult.rows),
            [fr.outcome.value for fr in fresult.rows],
            t0,
        )
    arches = [a for a in ARCHES if a in arch_names] if arch_names else ["x86_64"]
    kernels = [k for k in KERNELS if k in kernel_names] if kernel_names else list(KERNELS)
    scenarios = [s for s in SCENARIOS if s in scenario_names] if scenario_names else list(SCENARIOS)
    result = runner.conform(kernels, scenarios, cache, install, log, model.predict, timeout, arches)
    boots = ", ".join(f"{r.release} {r.group} {r.wall_s:.1f} s" for r in result.runs)
    return _finish(
        result,
        runner.to_json,
        output_to,
        lambda: table.table(result.rows),
        [r.verdict.value for r in result.rows],
        t0,
        f"boots: {boots}",
    )


def _finish(
    result: Any,
    to_json: Callable[[Any, str, str], dict[str, Any]],
    output_to: Target | None,
    lines: Callable[[], Iterable[str]],
    outcomes: list[str],
    t0: float,
    before: str | None = None,
) -> int:
    """Write the JSON if asked, print the table and a summary line: the figures' run and the
    findings' alike."""
    if output_to is not None:
        write_output(output_to, json.dumps(to_json(result, command_line(), __version__), indent=1) + "\n")
    code = result.exit_code()
    if result.unavailable is not None:
        click.echo(f"mhpcheck: cannot run QEMU guests here: {result.unavailable}", err=True)
        return int(code)
    for line in lines():
        click.echo(line)
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o] = counts.get(o, 0) + 1
    summary = ", ".join(f"{n} {v}" for v, n in counts.items())
    if before is not None:
        click.echo(before, err=True)
    click.echo(
        f"{summary}; setup {result.setup_s:.1f} s, total {time.perf_counter() - t0:.1f} s: "
        f"{code.name.lower().replace('_', ' ')} (exit {int(code)})",
        err=True,
    )
    return int(code)
