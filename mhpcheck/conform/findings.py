"""The recorded findings on real kernels: a guest reproducer for each finding a kernel can show, the
kernels it runs on, what each kernel should show, and how a boot's console is read.

A reproducer is the finding's shortest trace put in terms a real kernel takes. The trace (for
example `mhpcheck check --arch arm64-4k --variant v6.12 -v`) adds two device ranges inside one
memory section, sub-section hotplug, and removes one of them; the guest does the same with two
devdax namespaces made back to back at the start of an emulated NVDIMM's region, then removes one
and uses the other. What the model calls a broken property, the kernel shows as an oops on the
survivor's struct pages, or a WARN from memunmap_pages().
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum


@dataclass(frozen=True)
class Fix:
    """An upstream fix: the first mainline release with it, and the subject a Debian changelog
    quotes when a stable update backports it."""

    subject: str
    mainline: tuple[int, int]
    commit: str


@dataclass(frozen=True)
class Reproducer:
    """The guest scenario of one finding on one arch, and the kernels it runs on."""

    finding: str
    arch: str
    ns_size: str  # each namespace, as ndctl's --size
    align: str  # devdax --align: the fault granularity mtouch steps by
    kernels: tuple[str, ...]
    layout: str  # how the two namespaces realise the trace's two ranges
    map: str = "mem"  # --map: memmap in RAM (mem) or on the device (dev, an altmap)
    remove: str = "second"
    fix: Fix | None = None

    @property
    def scenario(self) -> str:
        """The guest's scenario name."""
        return f"finding-{self.finding}"

    @property
    def params(self) -> str:
        """The kernel command line the guest's finding.sh reads."""
        return f"mhpc.ns={self.ns_size} mhpc.align={self.align} mhpc.map={self.map} mhpc.remove={self.remove}"


ARM64_VMEMMAP_FIX = Fix(
    "mm: Populate vmemmap at the page level if not section aligned",
    (6, 14),
    "d4234d131b0a",
)

REPRODUCERS: tuple[Reproducer, ...] = (
    Reproducer(
        "arm64-subsection-pmd-memmap",
        "arm64-4k",
        "32M",
        # 4 KiB: no compound pages (vmemmap_shift 0), so the model maps the memmap as the kernel does
        "4K",
        # the pre-fix build first: the finding; then the same tree with the fix, and the stock kernels
        ("6.12-prefix", "6.12-fixed", "6.1", "6.12", "7.2"),
        "two 32 MiB devdax namespaces at 0xc0000000 and 0xc2000000, both inside the 128 MiB section "
        "at 0xc0000000, whose memmap is one 2 MiB PMD block (32768 struct pages of 64 bytes); each "
        "namespace's memmap is 512 KiB of it, from RAM (--map=mem). Removing the second one unmaps "
        "the whole block; touching the first one's pages then faults on their struct pages.",
        fix=ARM64_VMEMMAP_FIX,
    ),
    Reproducer(
        "arm64-subsection-shared-vmemmap-page",
        "arm64-16k",
        "18M",
        "16K",
        ("6.12", "7.2"),
        "two 18 MiB devdax namespaces at 0xc0000000 and 0xc1200000: with 16 KiB pages one vmemmap "
        "page holds 256 struct pages, the memmap of 4 MiB, so the page for 0xc1000000-0xc13fffff "
        "holds the first namespace's last 2 MiB and the second one's first 2 MiB. Removing the "
        "second one frees that page; touching the first one's last pages then faults.",
    ),
)

# Every other recorded finding, and why no kernel Debian packages can show it.
NOT_SHOWN: dict[str, str] = {
    "reserve-skip-dead": "eras v4.5 and v4.13 only (fixed in v4.16), and harmless by the model's own "
    "account: the reserve's struct pages exist, so initialising them shows nothing. No packaged "
    "kernel is older than 6.1.",
    "altmap-offset-equals-range": "eras v4.5 and v4.13 only (fixed in v4.16 when the altmap and zone "
    "were passed to arch_remove_memory()); no packaged kernel is older than 6.1.",
    "powerpc-altmap-lookup-at-page-start": "powerpc at v4.13 only (fixed in v4.16, 7b73d978a5d0); no "
    "packaged kernel is that old, and this harness boots x86_64 and arm64 guests only.",
    "powerpc-shared-vmemmap-page": "powerpc at v4.13 and v5.3 (fixed in v5.5, cf387d9644d8); no "
    "packaged kernel is that old, and this harness boots x86_64 and arm64 guests only.",
    "leaked-sections-reused": "eras v4.5 and v4.13 only (v5.3 stopped swallowing -EEXIST), and it "
    "needs an add that fails part-way first; no packaged kernel is older than 6.1.",
    "altmap-offset-wraps": "needs an altmap whose reserve + free wraps past 2^64; every in-tree "
    "driver derives both from a namespace's info block (nd_pfn), which bounds them, so only a "
    "purpose-written module could pass one. Not attempted.",
    "failed-add-leaks-sections": "needs an add that fails after its first section; the model injects "
    "that allocation failure (--faults), and Debian's kernels have no fault injection "
    "(CONFIG_FAULT_INJECTION is not set). The code it rests on is unchanged in 7.2 (__add_pages() "
    "breaks out of its loop, add_memory_resource() and pagemap_range() remove nothing), so a guest "
    "made to run short of RAM in the middle of a large DIMM's memmap might show it; not tried.",
    "powerpc-populated-first-subsection": "powerpc at v5.3 only (fixed in v5.5); no packaged kernel "
    "is that old, and this harness boots x86_64 and arm64 guests only.",
    "nr-memmap-failed-add-underflow": "needs an add whose memmap population fails; Debian's 6.12 "
    "kernels have no fault injection (CONFIG_FAULT_INJECTION is not set) to fail it, and 7.2 carries "
    "the fix. A guest run short of RAM while populating a large DIMM's memmap might show it; not tried.",
    "x86-pmd-vmemmap-leak": "v6.19 only: bf9e4e30f353 came in v6.19 and 7.2 carries the fix, and the "
    "harness boots Debian's 6.1, 6.12 and 7.2 kernels, none of which has the bug.",
    "memunmap-reads-reserve-page": "v5.3 only (fixed in v5.4 by 77e080e7680e); no packaged kernel is "
    "older than 6.1.",
    "mhp-add-error-path-null-altmap": "needs a memory block's registration to fail after a "
    "memmap_on_memory add, which only fault injection does (Debian's kernels have none); and the "
    "6.1 stable tree carries the fix (f42ce5f087eb, 6.1.176), 5.15 is not packaged.",
    "mhp-error-path-null-altmap": "needs a memory block's registration to fail after a "
    "memmap_on_memory add, which only fault injection does (CONFIG_FAULT_INJECTION is not set "
    "in Debian's kernels); 6.12.118 and 7.2.13 carry the fix.",
    "memory-block-altmap-before-registration": "needs __add_memory_block() to fail (xa_store() "
    "under memory pressure, or device_register()), which only fault injection makes happen on "
    "purpose; 6.12.118 and 7.2.13 carry the fix (a2b8d7827f48).",
}


class Outcome(Enum):
    """What one kernel showed of one finding."""

    REPRODUCED = "reproduced"
    NOT_REPRODUCED = "not reproduced"
    CANNOT = "cannot be shown"
    FAILED = "failed"  # the scenario did not get far enough to tell


@dataclass(frozen=True)
class Evidence:
    """A console line that shows the kernel faulting or warning, and the step it came in."""

    step: str
    line: str


@dataclass
class FindingRow:
    """One finding on one kernel: what the kernel showed, what it should show, and why."""

    finding: str
    arch: str
    kernel: str
    release: str
    outcome: Outcome
    expected: Outcome | None = None  # None: nothing to expect (the kernel cannot show it)
    fix: str = ""  # whether the kernel has the finding's fix, and how that is known
    model: str = ""  # what the model says of the same layout at the kernel's era
    note: str = ""
    evidence: list[Evidence] = field(default_factory=list)
    layout: dict[str, str] = field(default_factory=dict)
    transcript: str | None = None
    wall_s: float | None = None

    @property
    def agrees(self) -> bool:
        """Whether the kernel showed what was expected (trivially, where nothing was)."""
        return self.expected is None or self.outcome is self.expected


# Console lines of a kernel that faulted or warned: the oops and its registers, BUG and WARNING
# lines, the altmap's own WARN text, and the panic that oops=panic turns an oops into
FAULT = re.compile(
    r"Unable to handle kernel|Internal error: Oops|\bOops\b|\bBUG:|WARNING:|Kernel panic|"
    r"general protection fault|failed to free all reserved pages|\bpc : |\blr : |Call trace:"
)
# the registers and call trace belong to the fault above them; only these lines start one
FAULT_START = re.compile(
    r"Unable to handle kernel|Internal error: Oops|\bBUG:|WARNING:|general protection fault|"
    r"failed to free all reserved pages"
)
# from this step on, a fault is the finding showing; before it the layout was never built
REMOVE_STEPS = ("remove", "touch-after", "remove-other")


def _kernel_line(line: str) -> bool:
    """Not one of the guest's own lines (the @@ protocol, the commands it echoes, mtouch); kernels
    built without CONFIG_PRINTK_TIME print no "[ seconds]" before theirs."""
    return not line.startswith(("@@", "+ ", "mtouch: ", "=== "))


def judge(
    rep: Reproducer, lines: Sequence[str], failure: str | None
) -> tuple[Outcome, str, list[Evidence], dict]:
    """Read a reproducer's boot: the outcome, a note, the evidence lines and the namespace layout."""
    step = "boot"
    evidence: list[Evidence] = []
    errors: list[str] = []
    ended = False
    faulted_at: str | None = None
    layout: dict[str, str] = {}
    for line in lines:
        if line.startswith("@@STEP "):
            parts = line.split()
            step = parts[2] if len(parts) > 2 else step
        elif line.startswith("@@ERROR "):
            errors.append(line.split(" ", 2)[2] if line.count(" ") >= 2 else "error")
        elif line.startswith("@@END "):
            ended = True
        elif line.startswith("@@M ") and " layout " in line:
            parts = line.split(" ", 4)
            if len(parts) == 5:
                layout[parts[3]] = parts[4]
        elif _kernel_line(line) and FAULT.search(line):
            evidence.append(Evidence(step, line))
            if faulted_at is None and FAULT_START.search(line):
                faulted_at = step
    if faulted_at is not None and faulted_at in REMOVE_STEPS:
        return Outcome.REPRODUCED, f"the kernel faulted at step {faulted_at}", evidence, layout
    if faulted_at is not None:
        return (
            Outcome.FAILED,
            f"the kernel faulted at step {faulted_at}, before any removal",
            evidence,
            layout,
        )
    if errors:
        return Outcome.FAILED, "; ".join(errors), evidence, layout
    if ended:
        return Outcome.NOT_REPRODUCED, "every step ran clean: no oops, BUG or WARN", evidence, layout
    return Outcome.FAILED, failure or "the guest stopped before the scenario's end", evidence, layout


def series_version(series: str) -> tuple[int, int]:
    """(6, 12) for "6.12", "6.12-prefix", ..."""
    m = re.match(r"(\d+)\.(\d+)", series)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def fix_state(rep: Reproducer, series: str, changelog: str) -> tuple[bool | None, str]:
    """Whether a kernel carries the finding's fix, and how that is known; (None, "") if it has none."""
    fix = rep.fix
    if fix is None:
        return False, "no upstream fix is known"
    name = f"{fix.commit} (v{fix.mainline[0]}.{fix.mainline[1]})"
    if series.endswith("-prefix"):
        return False, f"{name} reverted in Debian's 6.12 source"
    if series.endswith("-fixed"):
        return True, f"{name} kept: the same source as the pre-fix build"
    if series_version(series) >= fix.mainline:
        return True, f"{name} is in mainline since v{fix.mainline[0]}.{fix.mainline[1]}"
    if fix.subject in changelog:
        return True, f"{name} backported: Debian's changelog lists '{fix.subject}'"
    return False, f"Debian's changelog does not list {name}"


def expectation(model_broken: bool, has_fix: bool | None) -> Outcome:
    """What the kernel should show: the finding where the model, at the kernel's era, says the
    layout breaks its properties and the kernel lacks the upstream fix; nothing otherwise."""
    return Outcome.REPRODUCED if model_broken and not has_fix else Outcome.NOT_REPRODUCED


def reproducer(finding: str) -> Reproducer | None:
    """The reproducer of a finding, if a real kernel can show it."""
    return next((r for r in REPRODUCERS if r.finding == finding), None)


def _bytes(size: str) -> int:
    """ndctl's size syntax: 32M, 16K, or plain bytes."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(size[:-1]) * units[size[-1]] if size[-1] in units else int(size)


def model_says(rep: Reproducer, series: str) -> tuple[str, list[str]]:
    """The model's verdict on the reproducer's own layout: its era for the kernel, and the properties
    of the finding that removing the namespace breaks there (empty: the model says it holds).

    The two namespaces are device ranges of the model as the kernel makes them from ndctl's
    namespaces: each whole namespace (info block included) is the pgmap's range, with --map=mem no
    altmap, and devdax's alignment as the vmemmap shift."""
    from mhpcheck.conform.predict import ERAS, NVDIMM_BASE
    from mhpcheck.engines.cell import Cell
    from mhpcheck.model.state import KernelState
    from mhpcheck.model.transitions import AddDeviceMemory, Bounds, RemoveDeviceMemory
    from mhpcheck.properties.findings import FINDINGS

    era = ERAS[".".join(str(x) for x in series_version(series))]
    cell = Cell(rep.arch, era, Bounds())
    shift = cell.k.arch.PAGE_SHIFT
    base, size = NVDIMM_BASE[rep.arch], _bytes(rep.ns_size)
    if rep.map != "mem":
        raise ValueError(f"{rep.finding}: only --map=mem layouts (no altmap) are modelled here")
    vshift = (_bytes(rep.align) >> shift).bit_length() - 1
    gone = 1 if rep.remove == "second" else 0
    path = [
        AddDeviceMemory(0, base >> shift, size >> shift, None, vmemmap_shift=vshift),
        AddDeviceMemory(1, (base + size) >> shift, size >> shift, None, vmemmap_shift=vshift),
        RemoveDeviceMemory(gone),
    ]
    props = next(f.properties for f in FINDINGS if f.id == rep.finding)
    s = KernelState()
    broken: list[str] = []
    for t in path:
        st = cell.step(s, t)
        broken += [p for p in sorted(cell.violations(st)) if p in props and p not in broken]
        s = st.after
    return era, broken


__all__ = ["FindingRow", "Outcome", "Reproducer"]
