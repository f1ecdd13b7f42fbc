"""SPIN on bench/peers/hotplug.pml: spin -a, gcc -O2 -DSAFETY, run pan, read its counts."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

MODEL = Path(__file__).with_name("hotplug.pml")
# pan's -m, the depth of its DFS stack, which it allocates up front: at most one frame per
# stored state, so twice the expected count never cuts the search and costs little memory.
DEFAULT_DEPTH = 10_000_000


class SpinUnavailable(Exception):
    """SPIN or a C compiler is missing, or the model does not build: the section says why."""


@dataclass(frozen=True)
class SpinRun:
    """One SPIN run: what pan stored and did, and the wall time of each stage."""

    states: int
    transitions: int
    depth: int
    memory_mib: float  # pan's "total actual memory usage"
    generate_s: float  # spin -a
    compile_s: float  # gcc -O2 -DSAFETY pan.c
    run_s: float  # ./pan, wall time
    pan_elapsed_s: float  # pan's own "elapsed time"


def versions() -> dict[str, str]:
    """The SPIN and gcc versions found on PATH, or why they cannot be used."""
    spin, gcc = shutil.which("spin"), shutil.which("gcc")
    if spin is None or gcc is None:
        missing = " and ".join(n for n, p in (("spin", spin), ("gcc", gcc)) if p is None)
        raise SpinUnavailable(f"{missing} not found on PATH (Debian: apt-get install -y spin gcc, as root)")
    out = subprocess.run([spin, "-V"], capture_output=True, text=True, check=False).stdout.strip()
    cc = subprocess.run([gcc, "--version"], capture_output=True, text=True, check=False).stdout
    return {"spin": out, "gcc": cc.splitlines()[0] if cc else "gcc"}


def _field(pattern: str, text: str) -> str:
    m = re.search(pattern, text)
    if m is None:
        raise SpinUnavailable(f"pan's report lacks {pattern!r}:\n{text[-800:]}")
    return m.group(1)


def run(sections: int, devices: int, max_device_sections: int, expected_states: int | None = None) -> SpinRun:
    """Build and run pan for one size of the shared configuration; fail loudly on any error."""
    versions()
    max_depth = 2 * expected_states + 1000 if expected_states else DEFAULT_DEPTH
    defines = [f"-DNSECT={sections}", f"-DNDEV={devices}", f"-DMAXN={max_device_sections}"]
    with tempfile.TemporaryDirectory(prefix="mhpcheck-spin-") as d:
        work = Path(d)
        shutil.copy(MODEL, work / MODEL.name)
        t0 = time.perf_counter()
        gen = subprocess.run(["spin", "-a", *defines, MODEL.name], cwd=work, capture_output=True, text=True)
        t1 = time.perf_counter()
        if gen.returncode != 0:
            raise SpinUnavailable(f"spin -a failed: {(gen.stdout + gen.stderr)[-400:]}")
        cc = subprocess.run(
            ["gcc", "-O2", "-DSAFETY", "-w", "-o", "pan", "pan.c"], cwd=work, capture_output=True, text=True
        )
        t2 = time.perf_counter()
        if cc.returncode != 0:
            raise SpinUnavailable(f"gcc failed on pan.c: {cc.stderr[-400:]}")
        pan = subprocess.run([str(work / "pan"), f"-m{max_depth}"], cwd=work, capture_output=True, text=True)
        t3 = time.perf_counter()
    report = pan.stdout
    errors = int(_field(r"errors: (\d+)", report))
    depth = int(_field(r"depth reached (\d+)", report))
    if errors or depth >= max_depth - 1 or "Search not completed" in report:
        raise SystemExit(
            f"SPIN's search of {MODEL.name} {' '.join(defines)} did not complete cleanly:\n{report}"
        )
    return SpinRun(
        states=int(_field(r"(\d+) states, stored", report)),
        transitions=int(_field(r"(\d+) transitions \(= stored\+matched\)", report)),
        depth=depth,
        memory_mib=float(_field(r"([\d.]+)\s+total actual memory usage", report)),
        generate_s=t1 - t0,
        compile_s=t2 - t1,
        run_s=t3 - t2,
        pan_elapsed_s=float(_field(r"elapsed time ([\d.e+-]+) seconds", report)),
    )
