"""The property decorators: invariant, step_property, monitor and reachable, building Property records.

A property is a pure function of the kernel context and a state (or a step) that yields its
claims with `check(cond, message)`. Called, it returns the conjunction of its claims as one
`Cond`, so both engines can use it; `Property.first_failure()` gives the message of the first
claim that is false on concrete values, for reports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from mhpcheck.core.values import Cond, ModelDefinitionError

INVARIANT = "invariant"
STEP = "step"
MONITOR = "monitor"
REACHABLE = "reachable"

# What a property is judged on: each state reached, or each step taken (before, transition, after)
ON_STATE = "state"
ON_STEP = "step"


class Claim(NamedTuple):
    """One claim of a property: a condition, and what it means when it is false."""

    # A tuple rather than a frozen dataclass: properties make one per claim per explored
    # transition, and a frozen dataclass pays an object.__setattr__ per field to be built.
    cond: Cond
    explain: str | Callable[[], str]

    @property
    def message(self) -> str:
        return self.explain if isinstance(self.explain, str) else self.explain()


# tuple.__new__ directly: a NamedTuple's own __new__ is a Python function, one frame per claim
_make_claim = tuple.__new__


def check(cond: Cond, message: str | Callable[[], str]) -> Claim:
    """A claim: `cond` must hold; `message` (or a function making it, called only on failure) says
    with the values what is wrong when it does not. Format it only when asked: it runs per state."""
    return _make_claim(Claim, (cond, message))


@dataclass(frozen=True)
class Property:
    """A named claim about the kernel model and the seeded bugs it must catch."""

    name: str
    kind: str
    fn: Callable[..., Iterable[Claim]]
    doc: str
    kills: tuple[str, ...] = ()  # mutant names and pre-patch variant names
    applies: Callable[[Any, Any], bool] | None = field(default=None, compare=False)
    judged_on: str = ON_STATE  # ON_STATE or ON_STEP
    needs: str = ""  # "faults": only meaningful when the bounds inject allocation failures
    # Judged on steps: the transition classes whose steps can decide it (a violation, or a
    # witness reached); () for every step. A claim: on other steps it holds (is not reached).
    observes: tuple[type, ...] = ()

    def claims(self, k: Any, *args: Any) -> Iterator[Claim]:
        return iter(self.fn(k, *args))

    def __call__(self, k: Any, *args: Any) -> Cond:
        return k.sem.all(c.cond for c in self.fn(k, *args))

    def first_failure(self, k: Any, *args: Any) -> str | None:
        """The message of the first false claim on concrete values, or None if all hold."""
        branch = k.sem.branch
        for c in self.fn(k, *args):
            if not branch(c[0]):
                return c.message
        return None

    def applies_to(self, arch: Any, variant: Any) -> bool:
        """Whether the property concerns this arch config (resolved at `variant`) and kernel."""
        return self.applies is None or self.applies(arch, variant)

    @property
    def witness(self) -> bool:
        return self.kind == REACHABLE

    @property
    def module(self) -> str:
        return self.fn.__module__


def _make(
    kind: str,
    kills: Iterable[str],
    applies: Callable[[Any, Any], bool] | None,
    judged_on: str,
    needs: str = "",
    observes: tuple[type, ...] = (),
) -> Callable[[Callable[..., Iterable[Claim]]], Property]:
    def deco(fn: Callable[..., Iterable[Claim]]) -> Property:
        doc = (fn.__doc__ or "").strip()
        if not doc or "\n" in doc:
            raise ModelDefinitionError(
                f"property {fn.__name__} needs a one-line docstring stating the kernel rule"
            )
        if observes and judged_on != ON_STEP:
            raise ModelDefinitionError(
                f"property {fn.__name__}: only a property of steps observes transitions"
            )
        return Property(fn.__name__, kind, fn, doc, tuple(kills), applies, judged_on, needs, observes)

    return deco


def invariant(
    kills: Iterable[str] = (), applies: Callable[[Any, Any], bool] | None = None
) -> Callable[[Callable[..., Iterable[Claim]]], Property]:
    """A claim over every reachable state: fn(k, s)."""
    return _make(INVARIANT, kills, applies, ON_STATE)


def step_property(
    kills: Iterable[str] = (),
    applies: Callable[[Any, Any], bool] | None = None,
    observes: tuple[type, ...] = (),
) -> Callable[[Callable[..., Iterable[Claim]]], Property]:
    """A claim over every step (before, transition, return value, after): fn(k, step); with
    `observes`, only steps of those transition classes can violate it."""
    return _make(STEP, kills, applies, ON_STEP, observes=observes)


def monitor(
    kills: Iterable[str] = (), applies: Callable[[Any, Any], bool] | None = None
) -> Callable[[Callable[..., Iterable[Claim]]], Property]:
    """A claim over the kernel calls and tracepoints of every step: fn(k, step)."""
    return _make(MONITOR, kills, applies, ON_STEP)


def reachable(
    applies: Callable[[Any, Any], bool] | None = None,
    on: str = ON_STATE,
    needs: str = "",
    observes: tuple[type, ...] = (),
) -> Callable[[Callable[..., Iterable[Claim]]], Property]:
    """A witness: some explored state (on=ON_STATE: fn(k, s)) or step (ON_STEP: fn(k, step)) must
    satisfy it, or the bounds prove nothing."""
    if on not in (ON_STATE, ON_STEP):
        raise ModelDefinitionError(f"reachable(on={on!r}): a witness is judged on ON_STATE or ON_STEP")
    return _make(REACHABLE, (), applies, on, needs, observes)
