"""The physical memory map of one state, in the terminal and as SVG: ranges, altmaps, sections, vmemmap."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from xml.sax.saxutils import escape

from mhpcheck.model.kernel import Kernel
from mhpcheck.model.state import RAM_OWNER, SYSMEM, KernelState, VmemmapLeaf

COLUMNS = 16  # terminal columns per section
ZONE_NAMES = {None: "no zone", 0: "NORMAL", 1: "MOVABLE", 2: "DEVICE"}


@dataclass(frozen=True)
class LeafView:
    """A vmemmap leaf for a reader: the pfns it describes, what backs it, whether that is allowed."""

    leaf: VmemmapLeaf
    describes: tuple[int, int]  # [first, end) pfns whose struct pages live in it
    backing: tuple[int, int] | None  # [first, end) pfns of the altmap that back it
    verdict: str  # "" when fine, else what is wrong with where it lives

    @property
    def source(self) -> str:
        if self.leaf.source == SYSMEM:
            return "system memory"
        return f"dev {self.leaf.source}'s altmap"


def leaf_views(k: Kernel, s: KernelState) -> list[LeafView]:
    size = k.arch.STRUCT_PAGE_SIZE
    out = []
    for leaf in s.vmemmap:
        lo = (leaf.index << leaf.leaf_shift) // size
        hi = ((leaf.index + 1) << leaf.leaf_shift) // size
        backing = None
        verdict = ""
        if leaf.source != SYSMEM:
            first = leaf.pfn.v
            backing = (first, first + (1 << max(leaf.leaf_shift - k.arch.PAGE_SHIFT, 0)))
            r = s.range_of(leaf.source)
            if r is None or r.altmap is None:
                verdict = "its device is gone"
            else:
                a = r.altmap
                free_lo = a.base_pfn.v + a.reserve.v
                free_hi = free_lo + a.free.v
                if backing[0] < free_lo or backing[1] > free_hi:
                    verdict = f"outside the altmap's free area [{free_lo:#x}, {free_hi:#x})"
        out.append(LeafView(leaf, (lo, hi), backing, verdict))
    return out


def _window(k: Kernel, s: KernelState) -> tuple[int, int]:
    """The sections worth drawing: every one anything of the state touches."""
    shift = k.arch.PFN_SECTION_SHIFT
    nrs = {m.section_nr for m in s.sections}
    for r in s.device_ranges:
        nrs |= {r.start_pfn.v >> shift, (r.start_pfn.v + r.nr_pages.v - 1) >> shift}
    for x in s.resources:
        nrs |= {x.start_pfn.v >> shift, (x.start_pfn.v + x.nr_pages.v - 1) >> shift}
    if not nrs:
        base = k.arch.HOTPLUG_BASE_PFN >> shift
        return base, base + 1
    return min(nrs), max(nrs) + 1


def _bar(lo: int, hi: int, first: int, pps: int, nsec: int, fill: str, label: str) -> str:
    """Columns [lo, hi) of the window drawn with `fill`, `label` inside when it fits."""
    cols = nsec * COLUMNS
    a = max(0, min(cols, (lo - first) * COLUMNS // pps))
    b = max(a + 1, min(cols, -(-(hi - first) * COLUMNS // pps)))
    body = list(" " * cols)
    inner = b - a
    if len(label) + 4 <= inner:
        text = "[" + f" {label} ".center(inner - 2, fill) + "]"
    elif len(label) + 2 <= inner:
        text = "[" + label.center(inner - 2, fill) + "]"
    else:
        text = "[" + fill * (inner - 2) + "]" if inner >= 2 else fill * inner
    body[a:b] = text
    return "".join(body).rstrip()


def text_map(k: Kernel, s: KernelState) -> Iterator[str]:
    """The memory map as terminal lines: one column per 1/16 section, then each altmap zoomed in."""
    pps = k.arch.PAGES_PER_SECTION
    shift = k.arch.PFN_SECTION_SHIFT
    lo_sec, hi_sec = _window(k, s)
    nsec = hi_sec - lo_sec
    first = lo_sec << shift
    yield (
        f"physical memory, sections {lo_sec:#x}-{hi_sec - 1:#x} "
        f"(one section = {pps:#x} pfns = {pps << k.arch.PAGE_SHIFT >> 20} MiB)"
    )
    yield "  " + " " * 14 + "".join(f"{(first + i * pps):#x}".ljust(COLUMNS) for i in range(nsec))
    row = []
    for nr in range(lo_sec, hi_sec):
        m = s.section(nr)
        cell = "·" * COLUMNS if m is None else f"|{nr:#x} {ZONE_NAMES[m.zone]}"[:COLUMNS].ljust(COLUMNS)
        row.append(cell)
    yield f"  {'sections':14s}" + "".join(row)
    for r in s.device_ranges:
        alt = " +altmap" if r.altmap is not None else ""
        lo, hi = r.start_pfn.v, r.start_pfn.v + r.nr_pages.v
        yield f"  {f'dev {r.dev}':14s}" + _bar(lo, hi, first, pps, nsec, "=", f"dev {r.dev}{alt}")
    for x in s.resources:
        if x.owner == RAM_OWNER:
            lo, hi = x.start_pfn.v, x.start_pfn.v + x.nr_pages.v
            yield f"  {'System RAM':14s}" + _bar(lo, hi, first, pps, nsec, "~", "System RAM")
    views = leaf_views(k, s)
    for r in s.device_ranges:
        if r.altmap is None:
            continue
        a = r.altmap
        base, reserve, free, align, alloc = (x.v for x in (a.base_pfn, a.reserve, a.free, a.align, a.alloc))
        yield (
            f"  dev {r.dev} altmap  base {base:#x}: reserve {reserve:#x} [{base:#x}, {base + reserve:#x})"
            f" · free {free:#x} [{base + reserve:#x}, {base + reserve + free:#x})"
            f" · alloc {alloc:#x} · align {align:#x} → next pfn {base + reserve + alloc + align:#x}"
        )
        for line in _zoom(k, s, base, reserve, free, views, r.dev):
            yield "                " + line
    if views:
        yield "  vmemmap"
    for v in views:
        leaf = v.leaf
        size = 1 << leaf.leaf_shift
        unit = f"{size >> 20} MiB" if size >= 1 << 20 else f"{size >> 10} KiB"
        backed = v.source if v.backing is None else f"{v.source} pfns [{v.backing[0]:#x}, {v.backing[1]:#x})"
        mark = f"  ✗ {v.verdict}" if v.verdict else ""
        yield (
            f"    leaf {leaf.index:#x} ({unit}) describes pfns [{v.describes[0]:#x}, {v.describes[1]:#x})"
            f" ← {backed}{mark}"
        )
    if s.sysmem_vmemmap_pages:
        yield f"  system memory held by the memmap: {s.sysmem_vmemmap_pages} base pages"


def _zoom_span(base: int, reserve: int, free: int, views: list[LeafView], dev: int) -> tuple[int, int]:
    """The pfns an altmap's close-up covers: its reserve and free area, and any leaf it backs outside."""
    end = base + reserve + free
    for v in views:
        if v.leaf.source == dev and v.backing is not None:
            end = max(end, v.backing[1])
    return base, max(end, base + 1)


def _zoom(
    k: Kernel, s: KernelState, base: int, reserve: int, free: int, views: list[LeafView], dev: int
) -> list[str]:
    """The altmap area alone in 64 columns: R reserve, # backing a vmemmap leaf, · free or alignment
    padding, ! a leaf backed where it must not be; under it, i where struct pages were initialised."""
    lo, hi = _zoom_span(base, reserve, free, views, dev)
    width = 64

    def cols(a: int, b: int) -> range:
        """The columns pfns [a, b) cover, at least one when the run is not empty."""
        c0 = max(0, min(width, (a - lo) * width // (hi - lo)))
        c1 = max(0, min(width, -(-(b - lo) * width // (hi - lo))))
        return range(c0, max(c1, c0 + 1) if b > a and c0 < width else c1)

    cells = ["·"] * width
    for v in views:
        if v.leaf.source == dev and v.backing is not None:
            for i in cols(*v.backing):
                cells[i] = "!" if v.verdict else "#"
    for i in cols(base, base + reserve):
        cells[i] = "R"
    init = [" "] * width
    for iv in s.memmap_init:
        a, b = max(iv.start_pfn.v, lo), min(iv.end_pfn.v, hi)
        if a < b:
            for i in cols(a, b):
                init[i] = "i"
    lines = [f"|{''.join(cells)}|  pfns {lo:#x} … {hi:#x}"]
    if "i" in init:
        lines.append(f" {''.join(init)}   struct pages initialised (memmap_init)")
    return lines


_ZONE_FILL = {None: "#dddddd", 0: "#9ecae1", 1: "#a1d99b", 2: "#fdae6b"}
_DEV_FILL = ("#6baed6", "#74c476", "#9e9ac8", "#fd8d3c")
_SYS_FILL = "#969696"
_BAD = "#d62728"


def svg_map(k: Kernel, s: KernelState, title: str, subtitle: str = "") -> str:
    """The memory map as a standalone SVG picture."""
    pps = k.arch.PAGES_PER_SECTION
    shift = k.arch.PFN_SECTION_SHIFT
    lo_sec, hi_sec = _window(k, s)
    nsec = hi_sec - lo_sec
    first = lo_sec << shift
    left, row_h = 130, 28
    sec_w = max(180, 760 // nsec)
    width = max(left + nsec * sec_w + 20, 8 + 9 * max(len(title), len(subtitle)) * 3 // 4)
    out: list[str] = []
    y = 50

    def x_of(pfn: int) -> float:
        return left + (pfn - first) * sec_w / pps

    def rect(x0: float, x1: float, fill: str, label: str, stroke: str = "#333") -> None:
        w = max(x1 - x0, 4.0)
        out.append(
            f'<rect x="{x0:.1f}" y="{y}" width="{w:.1f}" height="{row_h - 6}" fill="{fill}" '
            f'stroke="{stroke}"><title>{escape(label)}</title></rect>'
        )
        if w > 7 * len(label) * 0.6:
            out.append(f'<text x="{x0 + 4:.1f}" y="{y + 15}" font-size="11">{escape(label)}</text>')

    def heading(text: str) -> None:
        out.append(f'<text x="8" y="{y + 15}" font-size="12" font-weight="bold">{escape(text)}</text>')

    for i in range(nsec + 1):
        x = left + i * sec_w
        out.append(f'<line x1="{x}" y1="{y - 14}" x2="{x}" y2="{{bottom}}" stroke="#ccc"/>')
        if i < nsec:
            out.append(f'<text x="{x + 3}" y="{y - 4}" font-size="10">{(first + i * pps):#x}</text>')
    y += 4
    heading("sections")
    for nr in range(lo_sec, hi_sec):
        m = s.section(nr)
        if m is not None:
            x0 = left + (nr - lo_sec) * sec_w
            rect(x0, x0 + sec_w, _ZONE_FILL[m.zone], f"{nr:#x} {ZONE_NAMES[m.zone]}")
    y += row_h
    for r in s.device_ranges:
        heading(f"dev {r.dev}")
        lo, hi = r.start_pfn.v, r.start_pfn.v + r.nr_pages.v
        rect(x_of(lo), x_of(hi), _DEV_FILL[r.dev % len(_DEV_FILL)], f"dev {r.dev} [{lo:#x}, {hi:#x})")
        y += row_h
    for res in s.resources:
        if res.owner == RAM_OWNER:
            heading("System RAM")
            lo, hi = res.start_pfn.v, res.start_pfn.v + res.nr_pages.v
            rect(x_of(lo), x_of(hi), "#c7e9c0", f"System RAM [{lo:#x}, {hi:#x})")
            y += row_h
    views = leaf_views(k, s)
    if views:
        heading("vmemmap")
        for v in views:
            lo, hi = max(v.describes[0], first), min(v.describes[1], first + nsec * pps)
            if lo >= hi:
                continue
            fill = _SYS_FILL if v.leaf.source == SYSMEM else _DEV_FILL[v.leaf.source % len(_DEV_FILL)]
            label = f"leaf {v.leaf.index:#x} ← {v.source}"
            rect(
                x_of(lo),
                x_of(hi),
                fill,
                label + (f": {v.verdict}" if v.verdict else ""),
                _BAD if v.verdict else "#333",
            )
        y += row_h
    zoom_w = nsec * sec_w
    for r in s.device_ranges:
        if r.altmap is None:
            continue
        a = r.altmap
        base, reserve, free = a.base_pfn.v, a.reserve.v, a.free.v
        lo, hi = _zoom_span(base, reserve, free, views, r.dev)
        y += 22
        heading(f"dev {r.dev} altmap")
        out.append(
            f'<text x="{left}" y="{y - 4}" font-size="10">close-up of pfns {lo:#x} … {hi:#x}: reserve '
            f"{reserve:#x}, free {free:#x}, alloc {a.alloc.v:#x}, align {a.align.v:#x}</text>"
        )

        def zx(pfn: int, lo: int = lo, hi: int = hi) -> float:
            return left + (pfn - lo) * zoom_w / (hi - lo)

        rect(zx(base + reserve), zx(base + reserve + free), "#ffffff", "free area (and alignment padding)")
        if reserve:
            rect(zx(base), zx(base + reserve), "#525252", f"reserve [{base:#x}, {base + reserve:#x})")
        for v in views:
            if v.leaf.source == r.dev and v.backing is not None:
                b0, b1 = v.backing
                label = f"leaf {v.leaf.index:#x} [{b0:#x}, {b1:#x})"
                if v.verdict:
                    rect(zx(b0), zx(b1), _BAD, f"{label}: {v.verdict}", _BAD)
                else:
                    rect(zx(b0), zx(b1), _DEV_FILL[r.dev % len(_DEV_FILL)], label)
        y += row_h
        for iv in s.memmap_init:
            i0, i1 = max(iv.start_pfn.v, lo), min(iv.end_pfn.v, hi)
            if i0 < i1:
                out.append(
                    f'<rect x="{zx(i0):.1f}" y="{y - 4}" width="{max(zx(i1) - zx(i0), 2):.1f}" height="5" '
                    f'fill="#31a354"><title>struct pages initialised [{iv.start_pfn.v:#x}, '
                    f"{iv.end_pfn.v:#x})</title></rect>"
                )
        out.append(f'<text x="8" y="{y + 3}" font-size="10" fill="#31a354">initialised</text>')
        y += 10
    bottom = y + 4
    height = bottom + 20
    body = "\n".join(line.replace("{bottom}", str(bottom)) for line in out)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="monospace">\n<rect width="100%" height="100%" fill="white"/>\n'
        f'<text x="8" y="18" font-size="14" font-weight="bold">{escape(title)}</text>\n'
        f'<text x="8" y="34" font-size="11">{escape(subtitle)}</text>\n{body}\n</svg>\n'
    )
