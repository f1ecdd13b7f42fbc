"""A conformance run: set up, boot each kernel once per group of scenarios, parse, compare."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mhpcheck.conform import findings as fnd
from mhpcheck.conform import initramfs, parse, prefix, qemu, setup
from mhpcheck.conform.compare import FigureLike, Row, Verdict, compare
from mhpcheck.conform.scenarios import ARCH_SCENARIOS, SCENARIOS, SOURCES
from mhpcheck.core.exitcodes import ExitCode

# Blocks arrive offline on every kernel, so that each step is one transition (6.12's config onlines
# them at once). The NVDIMM boot's memmap_on_memory=1 does not reach dax kmem: 6.1 ignores it there,
# 6.12 takes the per-device knob the kmem scenarios set.
OFFLINE = "memhp_default_state=offline"


@dataclass(frozen=True)
class Group:
    """Scenarios that share one boot: same machine, same kernel command line."""

    name: str
    scenarios: tuple[str, ...]
    append: str
    nvdimm: bool


GROUPS = (
    Group("dimm-mom1", ("dimm-mom1",), f"{OFFLINE} memory_hotplug.memmap_on_memory=1", False),
    Group("dimm-mom0", ("dimm-mom0",), f"{OFFLINE} memory_hotplug.memmap_on_memory=0", False),
    Group("nvdimm", SCENARIOS[2:], f"{OFFLINE} memory_hotplug.memmap_on_memory=1", True),
)
TIMEOUT = 300.0  # seconds per boot; a whole NVDIMM group takes about 30 under TCG (60 on arm64)


@dataclass
class Run:
    """One boot: which kernel and scenarios, how long it took, how it ended, where its transcript is."""

    kernel: str
    release: str
    group: str
    scenarios: tuple[str, ...]
    wall_s: float
    init_s: float | None
    failure: str | None
    transcript: str | None
    monitor: list[tuple[str, str]] = field(default_factory=list)
    arch: str = "x86_64"


@dataclass
class Result:
    """The rows of every kernel and scenario, the boots that produced them, and the setup time."""

    rows: list[Row] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)
    setup_s: float = 0.0
    unavailable: str | None = None

    def exit_code(self) -> ExitCode:
        """1 on any mismatch; 3 if nothing could be compared or a figure or run is missing; else 0."""
        verdicts = {r.verdict for r in self.rows}
        if Verdict.MISMATCH in verdicts:
            return ExitCode.VIOLATED
        if (
            self.unavailable
            or Verdict.MATCH not in verdicts
            or verdicts & {Verdict.NOT_MEASURED, Verdict.FAILED}
        ):
            return ExitCode.INCONCLUSIVE
        return ExitCode.HOLDS


# the model's predict(kernel, scenario, arch), handed in by the caller: the harness and the model
# know nothing of each other, only the shape of a figure
Predict = Callable[[str, str, str], Sequence[FigureLike]]


def plan(scenarios: Sequence[str], arch: str = "x86_64") -> list[Group]:
    """The boots these scenarios need on this arch, each with only the requested scenarios that
    make sense there, in the standard order."""
    out = []
    for g in GROUPS:
        chosen = tuple(s for s in g.scenarios if s in scenarios and s in ARCH_SCENARIOS[arch])
        if chosen:
            out.append(Group(g.name, chosen, g.append, g.nvdimm))
    return out


def judge(
    kernel: str,
    guest: parse.Guest,
    group: Group,
    failure: str | None,
    predict: Predict | None,
    arch: str = "x86_64",
) -> list[Row]:
    """Rows for one boot's scenarios: parsed figures against predictions, plus why a scenario fell short."""
    rows: list[Row] = []
    page_kib = parse.page_kib(guest)
    for name in group.scenarios:
        predicted = list(predict(kernel, name, arch)) if predict is not None else []
        s = guest.scenarios.get(name)
        if s is not None and s.skipped is not None:
            # the kernel lacks what the scenario needs (6.1 has no dax memmap_on_memory knob): what
            # the model says of it is shown, unchecked, and neither passes nor fails the run
            rows += skipped(kernel, name, s.skipped, predicted, arch)
            continue
        observed = parse.figures(s, page_kib) if s is not None else []
        rows += [_with_arch(r, arch) for r in compare(kernel, observed, predicted)]
        note = None
        if s is None:
            note = failure or "the guest never started this scenario"
        elif s.errors:
            note = "; ".join(s.errors)
        elif failure is not None:
            note = failure
        if note is not None:
            rows.append(Row(kernel, name, "-", "-", "", None, None, 0, Verdict.FAILED, note, arch))
    return rows


def skipped(kernel: str, name: str, why: str, predicted: Sequence[FigureLike], arch: str) -> list[Row]:
    """A scenario the kernel cannot run: the model's figures shown unchecked, and why."""
    rows = [
        Row(kernel, f.scenario, f.step, f.name, f.unit, None, f.value, f.tolerance, Verdict.SKIPPED, "", arch)
        for f in predicted
    ]
    rows.append(Row(kernel, name, "-", "-", "", None, None, 0, Verdict.SKIPPED, why, arch))
    return rows


def _with_arch(r: Row, arch: str) -> Row:
    from dataclasses import replace

    return r if r.arch == arch else replace(r, arch=arch)


def guest_kinds(arches: Sequence[str]) -> list[str]:
    """The host tool sets these guest arches need."""
    return sorted({"x86_64" if a == "x86_64" else "arm64" for a in arches})


def conform(
    kernels: Sequence[str],
    scenarios: Sequence[str],
    cache: Path,
    install: bool,
    log: Callable[[str], None],
    predict: Predict | None,
    timeout: float = TIMEOUT,
    arches: Sequence[str] = ("x86_64",),
) -> Result:
    """Set up what is missing, run every requested scenario on every requested kernel of every
    requested arch, compare."""
    result = Result()
    t0 = time.monotonic()
    targets = [(a, k) for a in arches for k in kernels if k in SOURCES[a] and plan(scenarios, a)]
    try:
        setup.ensure_packages(install, log, guest_kinds(arches))
        ready = [setup.kernel(k, cache, log, a) for a, k in targets]
        userland = setup.arm64_userland(cache, log) if any(a != "x86_64" for a in arches) else None
        images = {
            (k.arch, k.series): initramfs.initramfs(k, cache, None if k.arch == "x86_64" else userland)
            for k in ready
        }
    except setup.Unavailable as e:
        result.unavailable = str(e)
        return result
    result.setup_s = time.monotonic() - t0
    runs_dir = cache / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    for k in ready:
        for g in plan(scenarios, k.arch):
            if k.configured("ZONE_DEVICE") is False:
                # Debian's 6.1 arm64: no devm_memremap_pages(), so no fsdax or devdax namespace
                why = f"{k.release} has no CONFIG_ZONE_DEVICE: no fsdax or devdax namespace"
                for name in g.scenarios:
                    result.rows += skipped(k.series, name, why, [], k.arch)
                continue
            log(f"{k.release}: booting for {', '.join(g.scenarios)}")
            boot = qemu.Boot(
                k.vmlinuz, images[(k.arch, k.series)], g.scenarios, g.append, g.nvdimm, arch=k.arch
            )
            t = qemu.run(boot, timeout)
            transcript = runs_dir / f"{k.release}-{g.name}.log"
            transcript.write_text("".join(f"{line}\n" for line in t.lines))
            result.runs.append(
                Run(
                    k.series,
                    k.release,
                    g.name,
                    g.scenarios,
                    t.wall_s,
                    t.init_s,
                    t.failure,
                    str(transcript),
                    t.monitor,
                    k.arch,
                )
            )
            log(f"{k.release}: {g.name} took {t.wall_s:.1f} s" + (f" ({t.failure})" if t.failure else ""))
            result.rows += judge(k.series, parse.parse_lines(t.lines), g, t.failure, predict, k.arch)
    return result


@dataclass
class FindingsResult:
    """Every recorded finding on every kernel that was tried, and the boots that showed it."""

    rows: list[fnd.FindingRow] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)
    setup_s: float = 0.0
    unavailable: str | None = None

    def exit_code(self) -> ExitCode:
        """1 if a kernel showed other than expected; 3 if a reproducer failed or none could run; else 0."""
        shown = [r for r in self.rows if r.outcome in (fnd.Outcome.REPRODUCED, fnd.Outcome.NOT_REPRODUCED)]
        if any(not r.agrees for r in shown):
            return ExitCode.VIOLATED
        if self.unavailable or not shown or any(r.outcome is fnd.Outcome.FAILED for r in self.rows):
            return ExitCode.INCONCLUSIVE
        return ExitCode.HOLDS


# Where a finding's reproducer finds nothing to run on: every kernel in the archive has the fix
NO_PREFIX = (
    "every packaged kernel has the fix (Debian carries it since 6.1.133 and 6.12.20, mainline "
    "since v6.14), and no pre-fix kernel is built"
)

NO_CONTROL = "the pre-fix build's control (the same source with the fix kept) is not built"


def run_findings(
    cache: Path,
    install: bool,
    build: bool,
    log: Callable[[str], None],
    timeout: float = TIMEOUT,
    arches: Sequence[str] | None = None,
    only: Sequence[str] = (),
) -> FindingsResult:
    """Every reproducer on each of its kernels (those of `arches`, all if None; the findings in
    `only`, all if empty), plus a row for each finding no kernel can show."""
    from mhpcheck.properties.findings import FINDINGS

    result = FindingsResult()
    chosen = [
        r for r in fnd.REPRODUCERS if (arches is None or r.arch in arches) and (not only or r.finding in only)
    ]
    t0 = time.monotonic()
    try:
        setup.ensure_packages(install, log, guest_kinds([r.arch for r in chosen]))
        userland = setup.arm64_userland(cache, log) if chosen else None
    except setup.Unavailable as e:
        result.unavailable = str(e)
        return result
    result.setup_s = time.monotonic() - t0
    runs_dir = cache / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    built: dict[str, setup.Kernel] | None = None
    build_error = ""
    for rep in chosen:
        for series in rep.kernels:
            row = fnd.FindingRow(rep.finding, rep.arch, series, "-", fnd.Outcome.CANNOT)
            result.rows.append(row)
            try:
                if series in (prefix.PREFIX, prefix.FIXED):
                    if built is None:
                        try:
                            built = prefix.build(cache, install, log) if build else prefix.cached(cache)
                        except setup.Unavailable as e:
                            built, build_error = {}, f": building one failed: {e}"
                    if series not in built:
                        how = build_error or " (without --no-build, one is built from Debian's source)"
                        row.note = (NO_PREFIX if series == prefix.PREFIX else NO_CONTROL) + how
                        continue
                    k = built[series]
                else:
                    k = setup.kernel(series, cache, log, rep.arch)
                image = initramfs.initramfs(k, cache, userland)
            except setup.Unavailable as e:
                why = NO_PREFIX if series == prefix.PREFIX else f"{series} is not available"
                row.note = f"{why}: {e}"
                continue
            row.release = k.release
            has_fix, row.fix = fnd.fix_state(rep, series, k.changelog())
            if k.configured("ZONE_DEVICE") is False:
                row.note = f"{k.release} has no CONFIG_ZONE_DEVICE: no devdax namespace, no device memmap"
                continue
            era, broken = fnd.model_says(rep, series)
            row.model = (
                f"{era}: removing the {rep.remove} namespace breaks {', '.join(broken)}"
                if broken
                else f"{era}: every property holds on this layout"
            )
            row.expected = fnd.expectation(bool(broken), has_fix)
            log(f"{k.release}: booting for {rep.finding}")
            boot = qemu.Boot(
                k.vmlinuz, image, (rep.scenario,), f"oops=panic {rep.params}", True, rep.arch, labels=True
            )
            t = qemu.run(boot, timeout)
            transcript = runs_dir / f"{k.release}-{rep.scenario}.log"
            transcript.write_text("".join(f"{line}\n" for line in t.lines))
            row.outcome, row.note, row.evidence, row.layout = fnd.judge(rep, t.lines, t.failure)
            row.transcript, row.wall_s = str(transcript), t.wall_s
            result.runs.append(
                Run(
                    series,
                    k.release,
                    rep.scenario,
                    (rep.scenario,),
                    t.wall_s,
                    t.init_s,
                    t.failure,
                    str(transcript),
                    [],
                    rep.arch,
                )
            )
            log(f"{k.release}: {rep.finding} {row.outcome.value} ({t.wall_s:.1f} s)")
    if not only and arches is None:
        for f in FINDINGS:
            if fnd.reproducer(f.id) is None:
                why = fnd.NOT_SHOWN.get(f.id, "no reproducer written yet")
                result.rows.append(
                    fnd.FindingRow(f.id, ", ".join(f.archs), "-", "-", fnd.Outcome.CANNOT, note=why)
                )
    return result


def to_json(result: Result, command: str, version: str) -> dict[str, Any]:
    """The result as a JSON document (format mhpcheck-conform, version 1)."""
    code = result.exit_code()
    return {
        "format": "mhpcheck-conform",
        "format_version": 1,
        "tool": f"mhpcheck {version}",
        "command": command,
        "verdict": code.name.lower(),
        "exit_code": int(code),
        "unavailable": result.unavailable,
        "setup_s": round(result.setup_s, 1),
        "runs": [
            {
                "arch": r.arch,
                "kernel": r.kernel,
                "release": r.release,
                "group": r.group,
                "scenarios": list(r.scenarios),
                "wall_s": round(r.wall_s, 1),
                "init_s": None if r.init_s is None else round(r.init_s, 1),
                "failure": r.failure,
                "transcript": r.transcript,
                "monitor": [{"command": c, "reply": reply} for c, reply in r.monitor],
            }
            for r in result.runs
        ],
        "rows": [
            {
                "arch": r.arch,
                "kernel": r.kernel,
                "scenario": r.scenario,
                "step": r.step,
                "figure": r.figure,
                "unit": r.unit,
                "kernel_value": r.kernel_value,
                "model_value": r.model_value,
                "tolerance": r.tolerance,
                "verdict": r.verdict.value,
                "note": r.note,
            }
            for r in result.rows
        ],
    }


def findings_json(result: FindingsResult, command: str, version: str) -> dict[str, Any]:
    """The findings run as a JSON document (format mhpcheck-conform-findings, version 1)."""
    code = result.exit_code()
    return {
        "format": "mhpcheck-conform-findings",
        "format_version": 1,
        "tool": f"mhpcheck {version}",
        "command": command,
        "verdict": code.name.lower(),
        "exit_code": int(code),
        "unavailable": result.unavailable,
        "setup_s": round(result.setup_s, 1),
        "rows": [
            {
                "finding": r.finding,
                "arch": r.arch,
                "kernel": r.kernel,
                "release": r.release,
                "result": r.outcome.value,
                "expected": None if r.expected is None else r.expected.value,
                "as_expected": r.agrees,
                "fix": r.fix,
                "model": r.model,
                "note": r.note,
                "layout": r.layout,
                "console": [{"step": e.step, "line": e.line} for e in r.evidence],
                "transcript": r.transcript,
                "wall_s": None if r.wall_s is None else round(r.wall_s, 1),
            }
            for r in result.rows
        ],
    }
