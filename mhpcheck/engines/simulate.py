"""Simulation: random walks through the transitions, far deeper than exhaustive search reaches.

A Hypothesis `RuleBasedStateMachine` is generated from the model's transitions: one rule per
transition class, drawing among the environment's choices in the current state, with every
property judged after each step as an invariant. Each property failing raises its own exception
class, so Hypothesis tells the bugs apart and shrinks each to its own smallest walk. Walks prove
nothing: a property no walk broke is inconclusive, never "holds".
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule, run_state_machine_as_test

from mhpcheck.core.errors import InputError, InternalError
from mhpcheck.core.results import CellResult, Step
from mhpcheck.core.spec import Property
from mhpcheck.engines.cell import Cell
from mhpcheck.model.state import KernelState, state_bytes
from mhpcheck.model.transitions import TRANSITIONS, Transition


class Violation(AssertionError):
    """A property failed along a walk (one subclass per property, so Hypothesis shrinks each)."""

    prop: str = ""


class OutOfTime(Exception):
    """The time budget ran out: the walks stop where they are."""


def _violation_class(name: str) -> type[Violation]:
    return type(f"Violation_{name}", (Violation,), {"prop": name})


class _Walks:
    """One cell under simulation: the machine, and what its walks found."""

    def __init__(self, cell: Cell, deadline: float | None = None) -> None:
        self.cell = cell
        self.deadline = deadline
        self.errors = {p.name: _violation_class(p.name) for p in cell.properties}
        # the shortest walk that hits each property: a violation, or a witness reached
        self.hits: dict[str, tuple[tuple[Transition, ...], str]] = {}
        self.steps = 0
        self.seen: set[bytes] = set()  # distinct states the walks went through

    def judge(self, path: tuple[Transition, ...], arg: Any, props: tuple[Property, ...]) -> None:
        """Judge `props` at the end of `path`; raise the first violation for Hypothesis to shrink."""
        for p in props:
            msg = self.cell.hit(p, arg)
            if msg is None:
                continue
            best = self.hits.get(p.name)
            if best is None or len(path) < len(best[0]):
                self.hits[p.name] = (path, msg)
            if not p.witness:
                raise self.errors[p.name](msg)

    def machine(self) -> type[RuleBasedStateMachine]:
        """A state machine class with one rule per transition class of the model."""
        walks = self

        class Walk(RuleBasedStateMachine):
            def __init__(self) -> None:
                super().__init__()
                self.state = KernelState()
                self.path: tuple[Transition, ...] = ()
                self.enabled: dict[type, list[Transition]] = {}
                walks.judge(self.path, self.state, walks.cell.on_states)

            def choices(self, cls: type[Transition]) -> list[Transition]:
                if cls not in self.enabled:
                    self.enabled[cls] = list(cls.choices(walks.cell.k, self.state, walks.cell.bounds))
                return self.enabled[cls]

            def take(self, t: Transition) -> None:
                if walks.deadline is not None and time.perf_counter() > walks.deadline:
                    raise OutOfTime
                try:
                    step: Step = walks.cell.step(self.state, t)
                except InputError:  # a patch file that went wrong: bad input, named
                    raise
                except Exception as e:  # a model defect, reported as exit 4
                    raise InternalError(f"{walks.cell.name}: {t} raised {e!r}") from e
                self.state, self.path, self.enabled = step.after, (*self.path, t), {}
                walks.steps += 1
                walks.seen.add(state_bytes(step.after))
                walks.judge(self.path, step, walks.cell.on_steps)
                walks.judge(self.path, step.after, walks.cell.on_states)

        for cls in TRANSITIONS:  # Hypothesis collects the rules on first use, after this
            setattr(Walk, f"rule_{cls.__name__}", _rule_for(cls))
        return Walk


def _rule_for(cls: type) -> Callable[..., None]:
    """The rule taking one of `cls`'s enabled choices, drawn by Hypothesis."""

    @precondition(lambda self: bool(self.choices(cls)))
    @rule(data=st.data())
    def take(self: Any, data: st.DataObject) -> None:
        self.take(data.draw(st.sampled_from(self.choices(cls)), label=cls.__name__))

    take.__name__ = f"rule_{cls.__name__}"
    return take


def simulate(cell: Cell, runs: int, seed_value: int = 0, time_budget: float | None = None) -> CellResult:
    """`runs` random walks of up to bounds.depth steps; each property's shortest hit."""
    bounds = cell.bounds
    result = cell.result("simulation")
    t0 = time.perf_counter()
    walks = _Walks(cell, None if time_budget is None else t0 + time_budget)
    config = settings(
        max_examples=runs,
        stateful_step_count=bounds.depth,
        database=None,
        deadline=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        phases=(Phase.generate, Phase.shrink),
        report_multiple_bugs=True,
        print_blob=False,
    )
    try:
        run_state_machine_as_test(seed(seed_value)(walks.machine()), settings=config)
    except (InternalError, InputError):
        raise
    except OutOfTime:
        result.budget = f"--time-budget {time_budget:g}s"
    except (Violation, BaseExceptionGroup) as e:
        # what failed is in walks.hits, shortest walk first
        if isinstance(e, BaseExceptionGroup) and e.subgroup(OutOfTime) is not None:
            result.budget = f"--time-budget {time_budget:g}s"
    result.seconds = time.perf_counter() - t0
    result.transitions = walks.steps
    result.states = len(walks.seen)
    result.depth = bounds.depth
    result.stats = {"runs": runs, "seed": seed_value, "steps": walks.steps}
    sample = f"{runs} random walks of up to {bounds.depth} steps (seed {seed_value})"
    if result.budget:
        sample = f"the walks before {result.budget}"
    hits: dict[str, tuple[tuple[Transition, ...], str]] = {}
    unsure: dict[str, str] = {}
    for p in cell.properties:
        if p.name not in walks.hits:
            # walks sample, they prove nothing
            unsure[p.name] = (
                f"not reached in {sample}"
                if p.witness
                else f"no violation in {sample}: a sample, not a proof"
            )
            continue
        path, _ = walks.hits[p.name]
        _, failed_at, message = cell.judge_path(p, path)
        if failed_at is None:
            raise InternalError(f"{cell.name}: the walk hitting {p.name} does not replay")
        hits[p.name] = (path[:failed_at], message)
    result.properties = cell.verdicts(hits, False, sample, unsure)
    return result
