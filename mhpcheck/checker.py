"""Runs the matrix arch x variant x property and judges each cell against the recorded findings."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import cast

from mhpcheck import codec, patching
from mhpcheck.cache import CellCache, cell_key, untouched_key
from mhpcheck.core.errors import InputError, InternalError
from mhpcheck.core.results import ERA_OF, FIXED, REGRESSION, SAME, WORSE, CellResult, Report, Verdict
from mhpcheck.core.spec import REACHABLE
from mhpcheck.engines.cell import Cell, CellRequest
from mhpcheck.engines.explicit import explore
from mhpcheck.engines.minimise import minimise
from mhpcheck.engines.pool import ProcessEnded, chain_map, deadline_for, isolated_map
from mhpcheck.engines.schedule import expected_seconds
from mhpcheck.engines.symbolic.engine import check_symbolic
from mhpcheck.model.arch import arch_named, archs
from mhpcheck.model.transitions import Bounds
from mhpcheck.model.variants import ALL_ERAS, ERAS, Variant, asking, variant_named
from mhpcheck.properties import PROPERTIES, property_named
from mhpcheck.properties.findings import FINDINGS, findings_for

DEFAULT_BOUNDS = Bounds()
SIMULATION_WALKS = 200  # random walks per cell under `mhpcheck simulate`
SIMULATION_DEPTH = 50  # steps per walk: well past what exhaustive search reaches
SYMBOLIC_DEPTH = 2  # the symbolic engine's default depth: every path costs Z3 queries
SYMBOLIC_FAULTS = 0  # the symbolic engine's default: its altmaps run out part-way by themselves


@dataclass(frozen=True)
class CheckRequest:
    """What to check: the matrix, the bounds and the budgets."""

    archs: tuple[str, ...] = ()
    variants: tuple[str, ...] = ()
    properties: tuple[str, ...] = ()
    bounds: Bounds = DEFAULT_BOUNDS
    max_states: int | None = None
    time_budget: float | None = None
    jobs: int = 1
    patch: str | None = None  # a user patch file applied to every variant
    symmetry: bool = False  # visit one state per permutation of interchangeable devices
    cache_dir: str | None = None  # where judged cells are kept between runs; None: no cache
    executor: str = "process"  # "process": a local process pool; "ray": a Ray cluster (mhpcheck[ray])
    engine: str = "explicit"  # "explicit", "symbolic" (all 64-bit altmap values), "both" or "simulation"
    walks: tuple[int, int] = (SIMULATION_WALKS, 0)  # simulation: how many random walks, from which seed


# With no --variant, the newest era: a first answer on today's kernel for every arch in
# seconds. `--variant eras` checks every era, v4.3 to v7.2 (a few minutes on 2 cores).
DEFAULT_VARIANTS = (ERAS[-1].name,)


def variant_names_of(req: CheckRequest) -> tuple[str, ...]:
    """The variants a request names, `eras` expanded to every era, in order, each once."""
    names: list[str] = []
    for n in req.variants or DEFAULT_VARIANTS:
        names.extend([v.name for v in ERAS] if n == ALL_ERAS else [n])
    return tuple(dict.fromkeys(names))


def cells_of(req: CheckRequest) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    """The (arch, variant) cells to explore, and those skipped because the arch lacks the era."""
    arch_names = req.archs or tuple(a.name for a in archs())
    variant_names = variant_names_of(req)
    cells, skipped = [], []
    for vname in variant_names:
        v = variant_named(vname)
        for aname in arch_names:
            a = arch_named(aname)
            if a.supports(v):
                cells.append((aname, vname))
            else:
                skipped.append((aname, vname, f"no device memory on {aname} before {a.zone_device_since}"))
    return cells, skipped


Judged = tuple[list[CellResult], list[tuple[str, str, str, str]]]


REACHES = patching.REACHES  # the replaceable functions an unpatched cell ran
ASKED = "asked"  # what an unpatched cell's run asked of its variant, and the answers


def run_cell(req: CellRequest) -> Judged:
    """One cell under the requested engine(s), judged against the findings, each violation's
    counterexample minimised and replayed once: the steps every report is rendered from. An
    unpatched cell notes the replaceable functions it ran, for derived(); a cell notes what it
    asked of its variant, for as_era(), unless its patch file may read the variant otherwise."""
    if req.patch is not None:
        if not patching.activate(req.patch).asks_only:
            return _run_cell(req)
        with asking() as asked:  # the patch's own code asks too, and only asks (asks_only())
            results, stale = _run_cell(req)
    else:
        with patching.reaching() as reached, asking() as asked:
            results, stale = _run_cell(req)
        for result in results:
            result.stats[REACHES] = sorted(reached)
    for result in results:
        result.stats[ASKED] = dict(sorted(asked.items()))
    return results, stale


def _run_cell(req: CellRequest) -> Judged:
    cell = req.cell()
    patch = cell.variant.user_patch
    patching.count_calls(patch, reset=True)
    results = []
    if req.engine in ("explicit", "both"):
        results.append(explore(cell, req.max_states, req.time_budget, symmetry=req.symmetry))
    if req.engine in ("symbolic", "both"):
        # beside the explicit engine, the symbolic one covers the values, not the injected faults
        sym = cell
        if req.engine == "both":
            b = replace(req.bounds, depth=min(req.bounds.depth, SYMBOLIC_DEPTH), faults=0)
            sym = replace(req, bounds=b).cell("symbolic")
        results.append(check_symbolic(sym, req.time_budget))
    if req.engine == "simulation":
        from mhpcheck.engines.simulate import simulate  # Hypothesis is imported only when walking

        runs, seed = req.walks
        results.append(simulate(cell, runs, seed, req.time_budget))
    if req.engine == "both":
        _cross_check(results[0], results[1])
    stale = []
    for result in results:
        stale.extend(judge(result))
        counterexamples(cell, result)
    # every call of a replacement while the cell was checked, its counterexamples' replays too: a
    # cell where none ran is kept for any body of them (untouched())
    calls = patching.count_calls(patch, reset=True) if patch else {}
    if calls:
        for result in results:
            result.stats["patch_calls"] = calls
    return results, stale


def derived(twin: Judged, req: CellRequest, patch: patching.UserPatch) -> Judged | None:
    """Patched cell `req` from its unpatched twin's results where the twin ran none of the
    functions the patch replaces: a patched kernel runs as the unpatched one until a replacement
    runs, so the states, transitions, verdicts and counterexamples are the same, and the findings
    are judged alike. None where that cannot be said: the twin did not note what it ran or was
    cut short, the twin's variant and the patched one differ in the mutants properties kill, or
    loading the patch file may have done more than define its functions (patching.inert(): the
    twin may come from the cache, from a run without the patch)."""
    results = twin[0]
    if not results or not all(c.complete and patching.out_of_reach(patch, c.stats) for c in results):
        return None
    if _kills(variant_named(results[0].variant)) != _kills(variant_named(req.variant)):
        return None
    copy = codec.decode_judged(codec.encode_judged(twin))  # the twin's own results stay as they are
    for c in copy[0]:
        c.variant = req.variant
        # decoding shares the twin's dicts: copies
        c.bounds = dict(c.bounds)
        # what a patched run notes: the same questions, where the patch only asks (run_cell())
        dropped = (REACHES, ERA_OF) if patch.asks_only else (REACHES, ERA_OF, ASKED)
        c.stats = {key: value for key, value in c.stats.items() if key not in dropped}
        c.stats["patch_calls"] = dict.fromkeys(patch.names.values(), 0)
    # a patched variant never reports a finding as stale (judge()): a patch may fix one
    return copy[0], []


def as_era(twin_req: CellRequest, twin: Judged, req: CellRequest) -> Judged | None:
    """Cell `req` from `twin`, the same request at another variant, where the
    two kernels cannot differ along the twin's run: the same constants, and every question the
    run (the kernel, the properties that apply, minimising and replaying counterexamples) put
    to its variant answered alike by req's (Variant.answers()). The run is then the same run:
    the same states, transitions and counterexamples. Only the judging against the findings,
    which are recorded per release, is done again; where it gives another verdict than the
    twin's (a violation minimised there, a finding's path kept here), None: req is explored.
    None too where the twin was cut short or did not note what it asked, and for random walks.
    The symbolic engine runs the same model over terms and asks the same questions: its cells
    are taken alike (its Z3 answers are the twin's, as a second run's would be: the solver's
    seed and resource limit are fixed)."""
    results = twin[0]
    if req.engine == "simulation":
        return None
    if req.patch is not None and not patching.activate(req.patch).asks_only:
        return None
    if replace(req, variant=twin_req.variant) != twin_req:
        return None
    if not results or not all(c.complete and isinstance(c.stats.get(ASKED), dict) for c in results):
        return None
    was, now = variant_named(twin_req.variant), variant_named(req.variant)
    spec = arch_named(req.arch)
    if not all(spec.runs_alike(was, now, c.stats[ASKED]) for c in results) or _kills(was) != _kills(now):
        return None
    copy = codec.decode_judged(codec.encode_judged(twin))  # the twin's own results stay as they are
    stale = []
    for c, c_was in zip(copy[0], results, strict=True):
        c.variant = req.variant
        c.bounds = dict(c.bounds)
        c.stats = dict(c.stats)
        c.stats[ERA_OF] = twin_req.variant
        # as the engine left it, before judge(); a patched twin's comparison with its own era's
        # unpatched cell (against()) is not encoded, so the copy is compared afresh
        for p in c.properties:
            if p.verdict == Verdict.FINDING:
                p.verdict, p.finding = Verdict.VIOLATED, ""
        stale.extend(judge(c))
        if [(p.name, p.verdict) for p in c.properties] != [(p.name, p.verdict) for p in c_was.properties]:
            return None
    return copy[0], stale


def _kills(v: Variant) -> set[str]:
    """The properties that claim to kill variant `v` (a mutant, a pre-patch variant)."""
    return {p.name for p in PROPERTIES if v.name in p.kills}


def untouched(judged: Judged) -> bool:
    """Whether a patched cell was checked without any of its patch's replacements running: its
    results are then those of any patch file with the same outline (patching.outline())."""
    return all(c.stats.get("patch_calls") and not any(c.stats["patch_calls"].values()) for c in judged[0])


def unreached(results: list[CellResult]) -> list[str]:
    """The functions a patch replaces that no explored path ran: the patch changes nothing there."""
    totals: dict[str, int] = {}
    for r in results:
        for name, n in r.stats.get("patch_calls", {}).items():
            totals[name] = totals.get(name, 0) + n
    return sorted(name for name, n in totals.items() if n == 0)


def counterexamples(cell: Cell, result: CellResult) -> None:
    """Minimise each violation's path (a recorded finding keeps the path its engine found) and
    replay it once: the steps and the message that traces and reports show."""
    for p in result.properties:
        if p.verdict not in (Verdict.VIOLATED, Verdict.FINDING) or not p.path or p.kind == REACHABLE:
            continue
        prop = property_named(p.name)
        if p.verdict == Verdict.VIOLATED:
            p.path = minimise(cell, prop, p.path)
        steps, failed_at, message = cell.judge_path(prop, p.path)
        if failed_at is None:
            raise InternalError(f"{cell.name}: the counterexample to {p.name} does not replay")
        p.steps, p.message = tuple(steps), message


def _cross_check(explicit: CellResult, symbolic: CellResult) -> None:
    """Symbolic values cover every explicit one: a fault-free explicit violation within the
    symbolic depth that the symbolic engine calls holding means the engines disagree."""
    holds = {p.name for p in symbolic.properties if p.verdict == Verdict.HOLDS and p.kind != REACHABLE}
    for p in explicit.properties:
        if (
            p.verdict == Verdict.VIOLATED
            and p.name in holds
            and len(p.path) <= symbolic.depth
            and all(getattr(t, "fail_alloc", None) is None for t in p.path)
        ):
            raise InternalError(
                f"engines disagree on {p.name} ({explicit.arch} {explicit.variant}): the explicit "
                f"engine fails it along {' → '.join(map(str, p.path))}, the symbolic one says it holds"
            )


def judge(cell: CellResult) -> list[tuple[str, str, str, str]]:
    """Mark violations that are recorded kernel findings; return recorded findings that did not show."""
    v = variant_named(cell.variant)
    stale: list[tuple[str, str, str, str]] = []
    if v.mutant is not None:
        return stale  # a mutant's violations are its own; findings describe real kernels
    claimed = {p.name for p in PROPERTIES if v.name in p.kills}
    for p in cell.properties:
        # the symbolic engine's altmaps run out part-way on their own: it always sees failed adds
        failures = bool(cell.bounds.get("faults")) or bool(cell.bounds.get("partial_failures"))
        failures |= cell.engine == "symbolic"
        # a walk's values are concrete: what the explicit engine can show, it can show
        engine = "explicit" if cell.engine == "simulation" else cell.engine
        f = findings_for(p.name, v.version, cell.arch, failures, engine)
        if f is None or p.name in claimed:
            continue
        if p.verdict == Verdict.VIOLATED:
            p.verdict = Verdict.FINDING
            p.finding = f.id
        elif (
            p.verdict == Verdict.HOLDS
            and v.reverts is None
            and not v.user_patch  # a patch may well fix a finding: check --patch says so
            and not f.needs_failures  # whether those show depends on the fault budget
            and not (f.needs_subsections and not cell.bounds.get("subsections"))
            and p.name in f.properties[:1]
            # at its shallow depth the symbolic engine does not vouch for the explicit findings
            and cell.engine == "explicit"
        ):
            stale.append((f.id, p.name, cell.arch, cell.variant))
    if cell.engine == "symbolic" and cell.complete and v.reverts is None and not v.user_patch:
        # a finding only the symbolic engine can show is stale when none of its claims fails
        shown = {p.finding for p in cell.properties if p.verdict == Verdict.FINDING}
        names = {p.name for p in cell.properties}
        for f in FINDINGS:
            if (
                f.engines == ("symbolic",)
                and v.version in f.eras
                and cell.arch in f.archs
                and f.id not in shown
                and names & set(f.properties)
            ):
                stale.append((f.id, f.properties[0], cell.arch, cell.variant))
    return stale


def run_check(
    req: CheckRequest, on_cell: Callable[[CellResult], None] | None = None, report: Report | None = None
) -> Report:
    """Explore every cell of the matrix and judge it, filling `report` as cells finish (so that a
    caller interrupted part-way keeps the cells already done)."""
    report = report if report is not None else Report()
    cells, report.skipped = cells_of(req)
    base: dict[tuple[str, str], str] = {}  # a patched cell -> the unpatched variant it is judged against
    if req.patch is not None:
        name = patching.activate(req.patch).name  # bad input surfaces here, before any work
        patched = [(a, f"{v}@{name}") for a, v in cells]
        base = {(a, f"{v}@{name}"): v for a, v in cells}
        # each unpatched cell just before its patched one: what the patch changes is judged
        # against it (a cached one is free)
        cells = [c for pair in zip(cells, patched, strict=True) for c in pair]
    requests = [
        CellRequest(
            a,
            v,
            req.bounds,
            req.properties,
            req.patch if (a, v) in base else None,
            req.engine,
            req.max_states,
            req.time_budget,
            req.symmetry,
            req.walks,
        )
        for a, v in cells
    ]
    order = {(r.arch, r.variant): i for i, r in enumerate(requests)}
    store = CellCache(Path(req.cache_dir)) if req.cache_dir is not None else None
    patch_text = Path(req.patch).read_text() if req.patch is not None else None
    keys = {
        (r.arch, r.variant): cell_key(r, patch_text if r.patch else None) if store is not None else None
        for r in requests
    }
    # a patched cell is also kept by the patch's outline where none of its replacements ran
    outlined = {
        (r.arch, r.variant): untouched_key(r, patch_text)
        for r in requests
        if store is not None and r.patch is not None and patch_text is not None
    }
    unpatched: dict[tuple[str, str], Judged] = {}
    waiting: dict[tuple[str, str], Judged] = {}  # patched cells whose unpatched one is not in yet
    ran: dict[tuple[str, str], Judged] = {}  # unpatched cells judged so far, cached or run

    def as_another(r: CellRequest) -> Judged | None:
        """r from an unpatched cell of its arch judged already, the nearest earlier one first."""
        at = order[(r.arch, r.variant)]
        mine = [t for t in requests if t.arch == r.arch and t.patch == r.patch and t is not r]
        mine.sort(key=lambda t: (order[(t.arch, t.variant)] > at, -order[(t.arch, t.variant)]))
        for t in mine:
            twin = ran.get((t.arch, t.variant))
            judged = as_era(t, twin, r) if twin is not None else None
            if judged is not None:
                # under --patch the report shows the patched cells
                report.as_era += not base or (r.arch, r.variant) in base
                return judged
        return None

    def collect(judged: Judged) -> None:
        where = (judged[0][0].arch, judged[0][0].variant)
        if not base:
            _collect(report, judged, on_cell)
        elif where in base:
            if (where[0], base[where]) in unpatched:
                _collect(report, against(unpatched[(where[0], base[where])], judged), on_cell)
            else:
                waiting[where] = judged
        else:
            unpatched[where] = judged
            for w in [w for w in waiting if (w[0], base[w]) == where]:
                _collect(report, against(judged, waiting.pop(w)), on_cell)

    todo = []
    for r in requests:
        key, by_outline = keys[(r.arch, r.variant)], outlined.get((r.arch, r.variant))
        hit = store.get(key) if store is not None and key is not None else None
        if hit is None and store is not None and by_outline is not None:
            hit = store.get(by_outline)
            report.untouched += hit is not None
        if hit is not None:
            if not base or (r.arch, r.variant) in base:  # the cells the report shows
                report.cached += 1
            ran[(r.arch, r.variant)] = hit
            collect(hit)
        else:
            todo.append(r)
    jobs = max(1, min(req.jobs, len(todo) or 1))

    def done(judged: Judged) -> None:
        where = (judged[0][0].arch, judged[0][0].variant)
        ran[where] = judged
        key, by_outline = keys[where], outlined.get(where)
        if store is not None and key is not None and not judged[0][0].stats.get(OVERRUN):
            store.put(key, judged)
            if by_outline is not None and untouched(judged):
                store.put(by_outline, judged)
        collect(judged)

    # a patch file is code that may end its process or never return: its cells run apart, after
    # the unpatched ones, from which those the patch does not reach are derived()
    # the arches with the longest cells first, each in the matrix's order (as_era())
    apart = [r for r in todo if r.patch is not None]
    weight = {a: sum(expected_seconds(r.arch, r.variant) for r in apart if r.arch == a) for a, _ in cells}
    apart.sort(key=lambda r: -weight[r.arch])
    todo = [r for r in todo if r.patch is None]
    try:
        _run_unpatched(req, todo, jobs, done, as_another)
        if apart:
            patch = patching.activate(cast(str, req.patch))
            rest = []
            for r in apart:
                twin = unpatched.get((r.arch, base[(r.arch, r.variant)]))
                judged = derived(twin, r, patch) if twin is not None else None
                if judged is None:
                    rest.append(r)
                else:
                    report.derived += 1
                    done(judged)
            try:
                deadline = deadline_for(req.time_budget)
                chain = lambda r: r.arch  # noqa: E731
                isolated_map(run_cell, rest, jobs, done, deadline, overrun, chain, as_another)
            except ProcessEnded as e:
                r = cast(CellRequest, e.item)
                raise patching.ended(r.patch, e.exitcode, f"{r.arch} {r.variant}") from None
    finally:
        # the same order for any --jobs, interrupted or not: the matrix's, explicit before symbolic
        report.cells.sort(key=lambda c: (order[(c.arch, c.variant)], c.engine != "explicit"))
    return report


def _run_unpatched(
    req: CheckRequest,
    todo: list[CellRequest],
    jobs: int,
    done: Callable[[Judged], None],
    derive: Callable[[CellRequest], Judged | None],
) -> None:
    """The cells without a patch file, on the requested executor, each handed to `done`. Those of
    one arch run in the matrix's order, each taken from one judged before it where `derive`
    can (as_era()); the arches side by side, the longest first."""
    if not todo:
        return
    if req.executor == "ray":
        todo = sorted(todo, key=lambda r: -expected_seconds(r.arch, r.variant))
        for judged in _ray_map(todo, jobs):
            done(judged)
        return
    chains: dict[str, list[CellRequest]] = {}
    for r in todo:
        chains.setdefault(r.arch, []).append(r)
    weight = lambda r: expected_seconds(r.arch, r.variant)  # noqa: E731
    chain_map(run_cell, list(chains.values()), jobs, done, derive, weight)


OVERRUN = "overrun"  # stats key of a cell whose patch file never returned


def overrun(req: CellRequest) -> Judged:
    """A patched cell whose process was killed at its deadline: inconclusive, cut by the budget."""
    cell = req.cell()
    budget = f"--time-budget {req.time_budget:g}s (the patch file did not return)"
    results = []
    for engine in ("explicit", "symbolic") if req.engine == "both" else (req.engine,):
        r = cell.result(engine)
        r.complete, r.budget, r.stats[OVERRUN] = False, budget, True
        r.properties = cell.verdicts({}, False, budget)
        results.append(r)
    return results, []


def against(unpatched: Judged, patched: Judged) -> Judged:
    """The patched cell's results, each property's verdict compared with the unpatched kernel's:
    a regression where the unpatched kernel holds, fixed where it failed, worse where a recorded
    finding shows where it did not or in fewer steps, the same where both fail alike."""
    base = {(c.engine, p.name): p for c in unpatched[0] for p in c.properties}
    for cell in patched[0]:
        for p in cell.properties:
            b = base.get((cell.engine, p.name))
            if b is None:
                continue
            p.baseline = b.verdict.value
            failing = (Verdict.VIOLATED, Verdict.FINDING)
            if p.verdict == Verdict.VIOLATED:
                p.change = SAME if b.verdict in failing else REGRESSION
                p.note = f"{b.verdict.value} unpatched"
            elif p.verdict == Verdict.FINDING and b.verdict != Verdict.FINDING:
                p.change, p.note = WORSE, f"shows where the unpatched kernel {b.verdict.value}"
            elif p.verdict == Verdict.FINDING and len(p.path) < len(b.path):
                p.change = WORSE
                p.note = f"shows in {len(p.path)} steps, in {len(b.path)} unpatched"
            elif p.verdict == Verdict.FINDING:
                p.change = SAME
            elif p.verdict == Verdict.HOLDS and b.verdict in failing:
                p.change = FIXED
                p.note = f"finding {b.finding} unpatched" if b.finding else f"{b.verdict.value} unpatched"
    return patched


def _ray_map(todo: list[CellRequest], jobs: int) -> Iterator[Judged]:
    """The same cells on Ray: a cluster if RAY_ADDRESS names one, else a local one of `jobs` CPUs."""
    try:
        import ray
    except ImportError:
        raise InputError("--executor ray needs Ray: pip install 'mhpcheck[ray]'") from None
    if not ray.is_initialized():
        ray.init(num_cpus=None if os.environ.get("RAY_ADDRESS") else jobs, include_dashboard=False)
    remote = ray.remote(run_cell)
    pending = [remote.remote(r) for r in todo]
    try:
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            yield ray.get(ready[0])
    finally:  # interrupted, or the caller failed: nothing of this run goes on computing
        for ref in pending:
            ray.cancel(ref, force=True)


def _collect(report: Report, done: Judged, on_cell: Callable[[CellResult], None] | None) -> None:
    cells, stale = done
    report.stale.extend(stale)
    for r in cells:
        report.cells.append(r)
        if on_cell:
            on_cell(r)


def default_jobs() -> int:
    return os.cpu_count() or 1
