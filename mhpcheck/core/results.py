"""Plain data the engines produce and the reports render: verdicts, steps, cell results."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from mhpcheck.core.exitcodes import ExitCode


class Verdict(StrEnum):
    """What a run says of one property on one (arch, variant) cell."""

    HOLDS = "holds"
    VIOLATED = "violated"
    FINDING = "finding"  # violated exactly as a recorded kernel finding says it is
    INCONCLUSIVE = "inconclusive"
    NOT_APPLICABLE = "n/a"


@dataclass(frozen=True)
class Step:
    """One transition taken: the state before, what the environment did, the kernel's answer."""

    before: Any
    transition: Any
    ret: int
    events: tuple[Any, ...]
    after: Any


@dataclass
class PropertyResult:
    """The verdict of one property in one cell, with its counterexample or witness path."""

    name: str
    kind: str
    verdict: Verdict
    message: str = ""
    path: tuple[Any, ...] = ()  # the transitions from the initial state
    finding: str = ""  # the id of the recorded finding it matched
    trace_file: str = ""
    # The path replayed once, when the counterexample was minimised: what traces and reports show
    steps: tuple[Step, ...] = ()
    # Under a patch, against the same cell unpatched: REGRESSION, FIXED, WORSE or SAME (else "")
    change: str = ""
    baseline: str = ""  # the unpatched cell's verdict
    note: str = ""  # how it compares, in words


# How a patched kernel's verdict compares with the unpatched kernel's (check --patch)
REGRESSION = "regression"  # violated where the unpatched kernel holds
# stats key of a cell that is another variant's run judged again (checker.as_era()): that variant
ERA_OF = "as_era"
FIXED = "fixed"  # holds where the unpatched kernel violates it, or shows a finding
WORSE = "worse"  # a recorded finding that now shows where it did not, or in fewer steps
SAME = "same"  # violated, or the same finding, as the unpatched kernel


@dataclass
class CellResult:
    """Everything one exploration of one (arch, variant) found."""

    arch: str
    variant: str
    engine: str
    bounds: dict[str, Any]
    properties: list[PropertyResult] = field(default_factory=list)
    states: int = 0
    transitions: int = 0
    depth: int = 0
    seconds: float = 0.0
    complete: bool = True
    budget: str = ""  # the budget that cut the run short, if any
    stats: dict[str, Any] = field(default_factory=dict)  # engine-specific counts (solver queries, ...)


@dataclass
class Report:
    """The outcome of a check: every cell, and recorded findings that no longer reproduce."""

    cells: list[CellResult] = field(default_factory=list)
    skipped: list[tuple[str, str, str]] = field(default_factory=list)  # arch, variant, why
    stale: list[tuple[str, str, str, str]] = field(default_factory=list)  # finding, prop, arch, variant
    cached: int = 0  # cells taken from the cache, not explored
    untouched: int = 0  # of them, patched cells none of whose replacements ran (by the patch's outline)
    derived: int = 0  # patched cells taken from unpatched ones that reach none of the patch's functions
    as_era: int = 0  # unpatched cells taken from another variant's run that asked alike (checker.as_era())
    # ExitCode.INTERRUPTED or TERMINATED when a signal stopped the run: `cells` are those that
    # finished, and the run as a whole holds nothing
    interrupted: ExitCode | None = None
    planned: int = 0  # the cells the run set out to check

    def exit_code(self) -> ExitCode:
        if self.interrupted is not None:
            return self.interrupted
        verdicts = [p.verdict for c in self.cells for p in c.properties]
        worse = any(p.change == WORSE for c in self.cells for p in c.properties)
        if Verdict.VIOLATED in verdicts or self.stale or worse:
            return ExitCode.VIOLATED
        if Verdict.INCONCLUSIVE in verdicts:
            return ExitCode.INCONCLUSIVE
        return ExitCode.HOLDS
