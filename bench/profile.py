"""Where the explicit engine's time goes: cProfile on one size of the shared configuration.

Run: python -m bench.profile [--sections 4 --devices 3]. Prints the share of the exploration
spent running the model's transitions, judging properties, encoding and decoding states and
enumerating choices, then the functions with the most time of their own.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats

from bench.measure import ARCH, VARIANT, Size
from mhpcheck.engines.cell import Cell
from mhpcheck.engines.explicit import explore
from mhpcheck.properties import PROPERTIES

# (label, file suffix, function): cumulative time of each, as a share of the whole exploration
PARTS = (
    ("model: Transition.apply (the kernel functions)", (("model/transitions.py", "apply"),)),
    (
        "properties: Judgement.state and .step (Cell.hit)",
        (("mhpcheck/engines/cell.py", "state"), ("mhpcheck/engines/cell.py", "step")),
    ),
    ("encode successors: state_bytes", (("model/state.py", "state_bytes"),)),
    ("decode frontier: state_from_bytes", (("model/state.py", "state_from_bytes"),)),
    ("choices: each transition class's choices()", (("model/transitions.py", "choices"),)),
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sections", type=int, default=4)
    ap.add_argument("--devices", type=int, default=3)
    ap.add_argument("--top", type=int, default=20)
    ns = ap.parse_args()
    size = Size(ns.sections, ns.devices)
    prof = cProfile.Profile()
    prof.enable()
    r = explore(Cell(ARCH, VARIANT, size.bounds(), PROPERTIES))
    prof.disable()
    st = pstats.Stats(prof)
    raw = st.stats  # type: ignore[attr-defined]
    total = next(
        v[3] for k, v in raw.items() if k[0].endswith("mhpcheck/engines/explicit.py") and k[2] == "explore"
    )
    print(
        f"{ARCH} {VARIANT} {size.label}: {r.states:,} states, {r.transitions:,} transitions, "
        f"{total:.1f} s profiled"
    )
    covered = 0.0
    for label, where in PARTS:
        cum = sum(
            v[3] for k, v in raw.items() for suffix, fn in where if k[0].endswith(suffix) and k[2] == fn
        )
        covered += cum
        print(f"  {cum / total:6.1%}  {cum:6.1f} s  {label}")
    print(
        f"  {1 - covered / total:6.1%}  {total - covered:6.1f} s  "
        "the explorer's own loop, visited set, parent pointers"
    )
    print()
    st.sort_stats("tottime").print_stats(ns.top)


if __name__ == "__main__":
    main()
