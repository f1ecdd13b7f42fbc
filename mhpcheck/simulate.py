"""Simulation: random walks through the transitions, far deeper than exhaustive search reaches.

A Hypothesis `RuleBasedStateMachine` is generated from the model's transitions: one rule per
transition class, drawing among the environment's choices in the current state, with every
property judged after each step as an invariant. Each property failing raises its own exception
class, so Hypothesis tells the bugs apart and shrinks each to its own smallest walk. Walks prove
nothing: a property no walk broke is inconclusive, never "holds".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule, run_state_machine_as_test

from mhpcheck.explorer import InternalError, applicable, judge_path
from mhpcheck.model import build
from mhpcheck.model.arch import arch_named
from mhpcheck.model.kernel import Kernel
from mhpcheck.model.state import KernelState, state_bytes
from mhpcheck.model.transitions import TRANSITIONS, Bounds, Transition
from mhpcheck.results import CellResult, PropertyResult, Step, Verdict
from mhpcheck.spec import INVARIANT, MONITOR, REACHABLE, STEP, Property


class Violation(AssertionError):
    """A property failed along a walk (one subclass per property, so Hypothesis shrinks each)."""

    prop: str = ""


def _violation_class(name: str) -> type[Violation]:
    return type(f"Violation_{name}", (Violation,), {"prop": name})


class _Walks:
    """One (arch, variant) under simulation: the machine, and what its walks found."""

    def __init__(self, arch: str, variant: str, bounds: Bounds, props: list[Property]) -> None:
        self.arch, self.variant, self.bounds = arch, variant, bounds
        self.k: Kernel = build(arch, variant)
        self.on_states = [p for p in props if p.kind in (INVARIANT, REACHABLE) and not p.over_steps]
        self.on_steps = [p for p in props if p.kind in (STEP, MONITOR) or p.over_steps]
        self.errors = {p.name: _violation_class(p.name) for p in props}
        self.found: dict[str, tuple[tuple[Transition, ...], str]] = {}  # shortest failing walk
        self.reached: dict[str, tuple[Transition, ...]] = {}  # witnesses: the shortest walk
        self.steps = 0
        self.seen: set[bytes] = set()  # distinct states the walks went through

    def judge(self, path: tuple[Transition, ...], args: tuple[Any, ...], props: list[Property]) -> None:
        """Judge `props` at the end of `path`; raise the first failure for Hypothesis to shrink."""
        for p in props:
            msg = p.first_failure(self.k, *args)
            if p.kind == REACHABLE:
                seen = self.reached.get(p.name)
                if msg is None and (seen is None or len(path) < len(seen)):
                    self.reached[p.name] = path
                continue
            if msg is not None:
                best = self.found.get(p.name)
                if best is None or len(path) < len(best[0]):
                    self.found[p.name] = (path, msg)
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
                walks.judge(self.path, (self.state,), walks.on_states)

            def choices(self, cls: type) -> list[Transition]:
                if cls not in self.enabled:
                    self.enabled[cls] = list(cls.choices(walks.k, self.state, walks.bounds))  # type: ignore[attr-defined]
                return self.enabled[cls]

            def take(self, t: Transition) -> None:
                try:
                    s2, ret = t.apply(walks.k, self.state)
                except Exception as e:  # a model defect, reported as exit 4
                    raise InternalError(f"{walks.arch} {walks.variant}: {t} raised {e!r}") from e
                step = Step(self.state, t, ret, walks.k.take_events(), s2)
                self.state, self.path, self.enabled = s2, (*self.path, t), {}
                walks.steps += 1
                walks.seen.add(state_bytes(s2))
                walks.judge(self.path, (step,), walks.on_steps)
                walks.judge(self.path, (s2,), walks.on_states)

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


def simulate(
    arch: str,
    variant: str,
    bounds: Bounds,
    properties: Sequence[Property],
    runs: int,
    seed_value: int = 0,
) -> CellResult:
    """`runs` random walks of up to bounds.depth steps; each property's shortest failing walk."""
    kc = build(arch, variant)
    props = applicable(properties, arch_named(arch), kc.variant, bounds)
    result = CellResult(arch, kc.variant.name, "simulation", asdict(bounds))
    walks = _Walks(arch, variant, bounds, props)
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
    t0 = time.perf_counter()
    try:
        run_state_machine_as_test(seed(seed_value)(walks.machine()), settings=config)
    except InternalError:
        raise
    except (Violation, BaseExceptionGroup):
        pass  # what failed is in walks.found, shortest walk first
    result.seconds = time.perf_counter() - t0
    result.transitions = walks.steps
    result.states = len(walks.seen)
    result.depth = bounds.depth
    result.stats = {"runs": runs, "seed": seed_value, "steps": walks.steps}
    sample = f"{runs} random walks of up to {bounds.depth} steps (seed {seed_value})"
    for p in props:
        if p.kind == REACHABLE:
            if p.name in walks.reached:
                result.properties.append(
                    PropertyResult(p.name, p.kind, Verdict.HOLDS, "reached", walks.reached[p.name])
                )
            else:
                result.properties.append(
                    PropertyResult(p.name, p.kind, Verdict.INCONCLUSIVE, f"not reached in {sample}")
                )
        elif p.name in walks.found:
            path, _ = walks.found[p.name]
            _, failed_at, message = judge_path(arch, variant, p, path)
            if failed_at is None:
                raise InternalError(f"{arch} {variant}: the walk failing {p.name} does not replay")
            result.properties.append(
                PropertyResult(p.name, p.kind, Verdict.VIOLATED, message, path[:failed_at])
            )
        else:
            result.properties.append(
                PropertyResult(
                    p.name, p.kind, Verdict.INCONCLUSIVE, f"no violation in {sample}: a sample, not a proof"
                )
            )
    return result
