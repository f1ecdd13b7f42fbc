"""What the guest printed → figures named as the model names its predictions."""

from __future__ import annotations

from dataclasses import dataclass, field

from mhpcheck.conform.scenarios import Figure

PAGE_KIB = 4  # base pages where the guest does not say (x86_64): /proc/zoneinfo counts pages


@dataclass
class Scenario:
    """One scenario as the guest reported it: raw values per step in order, facts, skips and errors."""

    name: str
    facts: dict[str, str] = field(default_factory=dict)
    steps: dict[str, dict[str, str]] = field(default_factory=dict)
    skipped: str | None = None
    errors: list[str] = field(default_factory=list)


@dataclass
class Guest:
    """Everything one boot reported: facts about the kernel, and its scenarios in the order they ran."""

    facts: dict[str, str] = field(default_factory=dict)
    scenarios: dict[str, Scenario] = field(default_factory=dict)
    done: bool = False


def parse_lines(lines: list[str]) -> Guest:
    """The @@ lines of a guest transcript, gathered per scenario and step; other lines are ignored."""
    g = Guest()
    for line in lines:
        if line.startswith("@@SCENARIO "):
            name = line.split(" ", 1)[1].strip()
            g.scenarios[name] = Scenario(name)
        elif line.startswith("@@M "):
            parts = line.split(" ", 4)
            if len(parts) < 4:
                continue
            scenario, step, key = parts[1:4]
            value = parts[4] if len(parts) > 4 else ""
            # step "-" is a fact of the scenario (a knob it set), not a step to take deltas across
            if scenario not in g.scenarios:
                g.facts[key] = value
            elif step == "-":
                g.scenarios[scenario].facts[key] = value
            else:
                g.scenarios[scenario].steps.setdefault(step, {})[key] = value
        elif line.startswith("@@SKIP "):
            _, name, *why = line.split(" ", 2)
            if name in g.scenarios:
                g.scenarios[name].skipped = why[0] if why else "skipped"
        elif line.startswith("@@ERROR "):
            _, name, *what = line.split(" ", 2)
            if name in g.scenarios:
                g.scenarios[name].errors.append(what[0] if what else "error")
        elif line == "@@DONE":
            g.done = True
    return g


def figures(s: Scenario, page_kib: int = PAGE_KIB) -> list[Figure]:
    """The kernel-side figures of one scenario: deltas against the step before, absolutes where noted."""
    out: list[Figure] = []
    prev: dict[str, str] | None = None
    for step, m in s.steps.items():
        if prev is not None:
            out += _step_figures(s.name, step, prev, m, page_kib)
        prev = m
    return out


def page_kib(g: Guest) -> int:
    """The guest's base page size in KiB, as it reported it (4 where it did not)."""
    v = g.facts.get("page_kib", "")
    return int(v) if v.isdigit() and int(v) > 0 else PAGE_KIB


def _int(m: dict[str, str], key: str) -> int | None:
    """The value of `key` as an integer (decimal or 0x hex), None when the guest did not report it."""
    v = m.get(key)
    if v is None or v == "":
        return None
    return int(v, 0)


def _step_figures(
    scenario: str, step: str, p: dict[str, str], c: dict[str, str], page_kib: int = PAGE_KIB
) -> list[Figure]:
    """The figures of one step `c`, deltas taken against the step before it, `p`."""
    out: list[Figure] = []

    def add(name: str, value: int | None, unit: str) -> None:
        """Keep a figure the guest reported; a missing one is not a zero."""
        if value is not None:
            out.append(Figure(scenario, step, name, value, unit))

    total, free = _int(c, "MemTotal"), _int(c, "MemFree")
    ptotal, pfree = _int(p, "MemTotal"), _int(p, "MemFree")
    pcp, ppcp = _int(c, "pcp_pages") or 0, _int(p, "pcp_pages") or 0
    if None not in (total, free, ptotal, pfree):
        assert total is not None and free is not None and ptotal is not None and pfree is not None
        d_total = total - ptotal
        add("mem_total_kib", d_total, "KiB")
        # Free pages parked on per-cpu lists are not in MemFree; the sum is what stays put. Whatever of
        # its change MemTotal does not explain is RAM the memmap took (negative) or gave back. Where
        # the guest also reports the kernel memory /proc/meminfo accounts for (slab, page tables,
        # page cache, ...), that is added too: what is left is memory nothing accounts for.
        d_free = (free + pcp * page_kib) - (pfree + ppcp * page_kib)
        acc, pacc = _int(c, "accounted_kib"), _int(p, "accounted_kib")
        if acc is not None and pacc is not None:
            d_free += acc - pacc
        add("memmap_ram_kib", d_free - d_total, "KiB")
    add("movable_present_pages", _int(c, "movable_present"), "pages")
    add("movable_managed_pages", _int(c, "movable_managed"), "pages")
    add("nr_memmap_pages", _int(c, "nr_memmap_pages"), "pages")
    add("online_blocks", _int(c, "blocks_online"), "blocks")
    add("offline_blocks", _int(c, "blocks_offline"), "blocks")
    size, start, base = _int(c, "ns_size"), _int(c, "ns_data_start"), _int(c, "ns_base")
    add("namespace_size_bytes", size, "bytes")
    if start is not None and base is not None:
        add("data_offset_bytes", start - base, "bytes")
    return out
