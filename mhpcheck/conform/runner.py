"""A conformance run: set up, boot each kernel once per group of scenarios, parse, compare."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mhpcheck.conform import initramfs, parse, qemu, setup
from mhpcheck.conform.compare import FigureLike, Row, Verdict, compare
from mhpcheck.conform.scenarios import SCENARIOS
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
TIMEOUT = 300.0  # seconds per boot; a whole NVDIMM group takes about 30 under TCG


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


# the model's predict(kernel, scenario), handed in by the caller: the harness and the model know
# nothing of each other, only the shape of a figure
Predict = Callable[[str, str], Sequence[FigureLike]]


def plan(scenarios: Sequence[str]) -> list[Group]:
    """The boots these scenarios need, each with only the requested scenarios, in the standard order."""
    out = []
    for g in GROUPS:
        chosen = tuple(s for s in g.scenarios if s in scenarios)
        if chosen:
            out.append(Group(g.name, chosen, g.append, g.nvdimm))
    return out


def judge(
    kernel: str, guest: parse.Guest, group: Group, failure: str | None, predict: Predict | None
) -> list[Row]:
    """Rows for one boot's scenarios: parsed figures against predictions, plus why a scenario fell short."""
    rows: list[Row] = []
    for name in group.scenarios:
        predicted = list(predict(kernel, name)) if predict is not None else []
        s = guest.scenarios.get(name)
        if s is not None and s.skipped is not None:
            # the kernel lacks what the scenario needs (6.1 has no dax memmap_on_memory knob): what
            # the model says of it is shown, unchecked, and neither passes nor fails the run
            rows += [
                Row(kernel, f.scenario, f.step, f.name, f.unit, None, f.value, f.tolerance, Verdict.SKIPPED)
                for f in predicted
            ]
            rows.append(Row(kernel, name, "-", "-", "", None, None, 0, Verdict.SKIPPED, s.skipped))
            continue
        observed = parse.figures(s) if s is not None else []
        rows += compare(kernel, observed, predicted)
        note = None
        if s is None:
            note = failure or "the guest never started this scenario"
        elif s.errors:
            note = "; ".join(s.errors)
        elif failure is not None:
            note = failure
        if note is not None:
            rows.append(Row(kernel, name, "-", "-", "", None, None, 0, Verdict.FAILED, note))
    return rows


def conform(
    kernels: Sequence[str],
    scenarios: Sequence[str],
    cache: Path,
    install: bool,
    log: Callable[[str], None],
    predict: Predict | None,
    timeout: float = TIMEOUT,
) -> Result:
    """Set up what is missing, run every requested scenario on every requested kernel, compare."""
    result = Result()
    t0 = time.monotonic()
    try:
        setup.ensure_packages(install, log)
        ready = [setup.kernel(k, cache, log) for k in kernels]
        images = {k.series: initramfs.initramfs(k, cache) for k in ready}
    except setup.Unavailable as e:
        result.unavailable = str(e)
        return result
    result.setup_s = time.monotonic() - t0
    runs_dir = cache / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    for k in ready:
        for g in plan(scenarios):
            log(f"{k.release}: booting for {', '.join(g.scenarios)}")
            boot = qemu.Boot(k.vmlinuz, images[k.series], g.scenarios, g.append, g.nvdimm)
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
                )
            )
            log(f"{k.release}: {g.name} took {t.wall_s:.1f} s" + (f" ({t.failure})" if t.failure else ""))
            result.rows += judge(k.series, parse.parse_lines(t.lines), g, t.failure, predict)
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
