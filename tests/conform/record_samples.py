"""Refresh tests/conform/samples/ from the transcripts of the last `mhpcheck conform` runs.

    python tests/conform/record_samples.py [CACHE_DIR]

A figure boot keeps its @@ lines (all the parser reads); a finding's boot keeps its whole console,
since its evidence is the kernel's own lines. Each file starts with a line naming the boot.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mhpcheck.conform import setup
from mhpcheck.conform.findings import REPRODUCERS
from mhpcheck.conform.runner import GROUPS
from mhpcheck.conform.scenarios import ARCHES, SOURCES

SAMPLES = Path(__file__).parent / "samples"


def sample_name(arch: str, series: str, group: str) -> str:
    """samples/<series>-<group>.log for x86_64, <arch>-<series>-<group>.log for arm64."""
    return f"{series}-{group}.log" if arch == "x86_64" else f"{arch}-{series}-{group}.log"


def main(cache: Path) -> None:
    runs = cache / "runs"
    for arch in ARCHES:
        for series in SOURCES[arch]:
            k = setup.cached_kernel(arch, series, cache)
            if k is None:
                continue
            for g in GROUPS:
                src = runs / f"{k.release}-{g.name}.log"
                if src.exists():
                    lines = [x for x in src.read_text().splitlines() if x.startswith("@@")]
                    head = f"# {k.release}, group {g.name}: the @@ lines of one 'mhpcheck conform' boot"
                    _write(SAMPLES / sample_name(arch, series, g.name), [head, *lines])
    for rep in REPRODUCERS:
        for series in rep.kernels:
            k = setup.cached_kernel(rep.arch, series, cache)
            src = runs / f"{k.release}-{rep.scenario}.log" if k is not None else None
            if k is not None and src is not None and src.exists():
                head = f"# {k.release}, {rep.scenario}: the console of one 'mhpcheck conform --findings' boot"
                out = SAMPLES / "findings" / f"{rep.arch}-{series}-{rep.finding}.log"
                _write(out, [head, *src.read_text().splitlines()])


def _write(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{x}\n" for x in lines))
    print(path)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else setup.default_cache_dir())
