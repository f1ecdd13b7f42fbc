"""One cell of the matrix: an (arch, variant, patch) under Bounds, judged the one way every engine uses.

A `Cell` builds its kernel once, picks the properties that concern it, and splits them into
those judged on each state reached and those judged on each step taken. The explicit,
symbolic, simulation and diff engines search; the cell alone says what a state or a step
violates, what a path shows, and how what an engine found folds into verdicts.

Note: a replay takes only steps the environment offers (`Transition.enabled`): a path with a
step that is not enabled raises `NotEnabled`, so no trace and no minimised counterexample can
hold a step the explorer could never have taken.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from mhpcheck import patching
from mhpcheck.core.results import CellResult, PropertyResult, Step, Verdict
from mhpcheck.core.spec import ON_STEP, Property
from mhpcheck.core.values import CONCRETE, ModelDefinitionError, Sem
from mhpcheck.model.arch import arch_named
from mhpcheck.model.kernel import Kernel
from mhpcheck.model.state import KernelState
from mhpcheck.model.transitions import TRANSITIONS, Bounds, Transition
from mhpcheck.model.variants import Variant, variant_named
from mhpcheck.properties import PROPERTIES, property_named


class NotEnabled(Exception):
    """A path takes a step the environment does not offer in the state it is taken from."""

    def __init__(self, index: int, transition: Transition, cell: str) -> None:
        super().__init__(f"step {index}, {transition}, is not enabled on {cell} after the steps before it")
        self.index = index
        self.transition = transition


@dataclass(frozen=True)
class CellRequest:
    """What crosses the process pool and Ray: everything a worker needs to build and run one cell."""

    arch: str
    variant: str  # "v5.9", "v5.9+<mutant>", "v5.9@<patch name>" with `patch` naming its file
    bounds: Bounds
    properties: tuple[str, ...] = ()  # by name; () for every property
    patch: str | None = None  # the user patch file the variant's "@name" stands for
    engine: str = "explicit"  # "explicit", "symbolic", "both" or "simulation"
    max_states: int | None = None
    time_budget: float | None = None  # seconds
    symmetry: bool = False
    walks: tuple[int, int] = (200, 0)  # simulation: how many random walks, from which seed

    def cell(self, engine: str | None = None) -> Cell:
        """The cell this request names, its patch file installed in this process."""
        if self.patch is not None:
            patching.activate(self.patch)
        props = tuple(property_named(n) for n in self.properties) if self.properties else PROPERTIES
        return Cell(self.arch, self.variant, self.bounds, props, engine or self.engine)


Where = Any  # how an engine locates a state or step it judged: a state index, a path, ...


class Judgement:
    """One run's record of each property's first hit: a violation, or a witness reached.

    A property is judged until its first hit, at the first state or step an engine shows it
    (the shallowest, for breadth-first search); `pending_*` say whether anything is left to judge.
    """

    __slots__ = ("_by_class", "cell", "hits", "pending_states", "pending_steps")

    def __init__(self, cell: Cell) -> None:
        self.cell = cell
        self.pending_states = list(cell.on_states)
        self.pending_steps = list(cell.on_steps)
        self.hits: dict[str, tuple[Where, str]] = {}
        # per transition class, the pending properties of steps that its steps can decide
        self._by_class: dict[type, list[Property]] = {}

    def state(self, s: KernelState, where: Where) -> None:
        """Judge the properties still pending on a state reached."""
        for p in tuple(self.pending_states):
            msg = self.cell.hit(p, s)
            if msg is not None:
                self.hits[p.name] = (where, msg)
                self.pending_states.remove(p)

    def step(self, step: Step, where: Where) -> None:
        """Judge the properties still pending on a step taken (those that observe its transition)."""
        cls = type(step.transition)
        todo = self._by_class.get(cls)
        if todo is None:
            todo = self._by_class[cls] = [p for p in self.pending_steps if self.cell.observed(p, cls)]
        for p in tuple(todo):
            msg = self.cell.hit(p, step)
            if msg is not None:
                self.hits[p.name] = (where, msg)
                self.pending_steps.remove(p)
                for pending in self._by_class.values():
                    if p in pending:
                        pending.remove(p)


class Cell:
    """One (arch, variant, patch) under `bounds`: the kernel built once, the properties that apply."""

    def __init__(
        self,
        arch: str,
        variant: str | Variant,
        bounds: Bounds,
        properties: Sequence[Property] = PROPERTIES,
        engine: str = "explicit",
        check_observes: bool = False,
    ) -> None:
        self.variant = variant_named(variant) if isinstance(variant, str) else variant
        self.spec = arch_named(arch)
        self.k = Kernel(CONCRETE, self.spec.resolve(self.variant), self.variant)
        self.bounds = bounds
        self.engine = engine
        # Whether adds can fail part-way: injected faults, altmaps that run out after the first
        # section, or the symbolic engine's altmaps of every value (some of which run out)
        self.failures = bounds.failures or engine == "symbolic"
        self.properties = tuple(p for p in properties if self.applies(p))
        # judge every property on every step, and fail loudly where one that declares the
        # transitions it observes is decided by another one (tests)
        self.check_observes = check_observes
        self.on_states = tuple(p for p in self.properties if p.judged_on != ON_STEP)
        self.on_steps = tuple(p for p in self.properties if p.judged_on == ON_STEP)

    @property
    def arch(self) -> str:
        return self.spec.name

    @property
    def name(self) -> str:
        return f"{self.arch} {self.variant.name}"

    @property
    def supported(self) -> bool:
        """Whether the arch config can hot-add device memory at this kernel at all."""
        return self.spec.supports(self.variant)

    def applies(self, p: Property) -> bool:
        """Whether `p` concerns this arch and era, and these bounds can exercise it."""
        return (
            p.applies_to(self.k.arch, self.variant)
            and (p.needs != "faults" or self.bounds.faults > 0)
            and (p.needs != "failures" or self.failures)
        )

    def kernel(self, sem: Sem) -> Kernel:
        """The same kernel under another value back end (the symbolic engine's, per path)."""
        return Kernel(sem, self.k.arch, self.variant)

    def result(self, engine: str | None = None) -> CellResult:
        """An empty result for this cell, to be filled by an engine."""
        return CellResult(self.arch, self.variant.name, engine or self.engine, asdict(self.bounds))

    # -- what the environment offers ---------------------------------------------------------

    def choices(self, s: KernelState, bounds: Bounds | None = None) -> Iterator[Transition]:
        """Every step the environment offers in `s`, transition by transition, in a fixed order."""
        b = bounds or self.bounds
        for cls in TRANSITIONS:
            yield from cls.choices(self.k, s, b)

    def step(self, s: KernelState, t: Transition) -> Step:
        """Take `t` from `s` on the concrete kernel."""
        s2, ret = t.apply(self.k, s)
        return Step(s, t, ret, self.k.take_events(), s2)

    # -- judging ---------------------------------------------------------------------------

    def argument(self, p: Property, step: Step) -> Any:
        """What `p` is judged on when `step` is taken: the step, or the state it reaches."""
        return step if p.judged_on == ON_STEP else step.after

    def observed(self, p: Property, cls: type) -> bool:
        """Whether a step of transition class `cls` can decide `p`."""
        return not p.observes or self.check_observes or issubclass(cls, p.observes)

    def hit(self, p: Property, arg: Any) -> str | None:
        """Whether `p` is decided by a state or step: the violation's message, or "reached" for a
        witness that holds there; None otherwise."""
        msg = p.first_failure(self.k, arg)
        if p.witness:
            msg = "reached" if msg is None else None
        if msg is not None and p.observes and not issubclass(type(arg.transition), p.observes):
            raise ModelDefinitionError(
                f"property {p.name} observes {', '.join(c.__name__ for c in p.observes)} only, "
                f"yet a step of {type(arg.transition).__name__} decided it: {msg}"
            )
        return msg

    def claim(self, p: Property, k: Kernel, step: Step) -> Any:
        """`p`'s claim on a step taken, as one Cond of `k`'s back end (symbolic engine)."""
        return p(k, self.argument(p, step))

    def judgement(self) -> Judgement:
        return Judgement(self)

    def violations(self, step: Step) -> frozenset[str]:
        """The properties (witnesses aside) a step violates: on the step, or in the state it reaches."""
        cls = type(step.transition)
        return frozenset(
            p.name
            for p in self.properties
            if not p.witness
            and (p.judged_on != ON_STEP or self.observed(p, cls))
            and self.hit(p, self.argument(p, step)) is not None
        )

    # -- paths -----------------------------------------------------------------------------

    def replay(self, path: Sequence[Transition]) -> list[Step]:
        """Take `path` from the initial state, each step only if the environment offers it."""
        s = KernelState()
        out = []
        for i, t in enumerate(path, 1):
            if not t.enabled(self.k, s, self.bounds):
                raise NotEnabled(i, t, self.name)
            st = self.step(s, t)
            out.append(st)
            s = st.after
        return out

    def judge_path(self, p: Property, path: Sequence[Transition]) -> tuple[list[Step], int | None, str]:
        """Replay `path` and judge `p` along it as the engines do.

        Returns the steps taken, and the number of steps after which `p` is first hit (0: in the
        initial state) with its message; None if it is not hit along the path.
        """
        if p.judged_on != ON_STEP:
            msg = self.hit(p, KernelState())
            if msg is not None:
                return [], 0, msg
        steps: list[Step] = []
        for st in self.replay(path):
            steps.append(st)
            msg = self.hit(p, self.argument(p, st))
            if msg is not None:
                return steps, len(steps), msg
        return steps, None, ""

    # -- verdicts --------------------------------------------------------------------------

    def verdicts(
        self,
        hits: Mapping[str, tuple[tuple[Transition, ...], str]],
        complete: bool,
        budget: str,
        unsure: Mapping[str, str] | None = None,
        holds: str = "",
    ) -> list[PropertyResult]:
        """Each property's verdict from what a run found, in the cell's property order.

        `hits` maps a property to the path that hit it and the message; `complete` says whether
        the run covered its bounds (else `budget` says what cut it); `unsure` gives properties
        an engine could not decide, with why; `holds` is the note of a property that holds.
        """
        unsure = unsure or {}
        out = []
        for p in self.properties:
            hit = hits.get(p.name)
            if hit is not None:
                path, msg = hit
                verdict = Verdict.HOLDS if p.witness else Verdict.VIOLATED
                out.append(PropertyResult(p.name, p.kind, verdict, msg, tuple(path)))
            elif p.name in unsure:
                out.append(PropertyResult(p.name, p.kind, Verdict.INCONCLUSIVE, unsure[p.name]))
            elif not complete:
                why = f"not reached before {budget}" if p.witness else f"cut by {budget}"
                out.append(PropertyResult(p.name, p.kind, Verdict.INCONCLUSIVE, why))
            elif p.witness:
                out.append(PropertyResult(p.name, p.kind, Verdict.VIOLATED, f"witness not reached: {p.doc}"))
            else:
                out.append(PropertyResult(p.name, p.kind, Verdict.HOLDS, holds))
        return out
