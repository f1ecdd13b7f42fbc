"""The physical memory map of one state, in the terminal and as SVG: ranges, altmaps, sections, vmemmap."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from xml.sax.saxutils import escape

from mhpcheck.model import pgtable
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
    for leaf in pgtable.each_leaf(s):
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
_RESERVE_FILL = "#525252"
_INIT_FILL = "#31a354"
_BAD = "#d62728"
_CHAR_W = 6.7  # the width of one character of the 11 px monospace labels


@dataclass(frozen=True)
class Marks:
    """What a violation's message names, to be marked on the map: sections, devices, vmemmap leaves."""

    sections: frozenset[int] = frozenset()
    devs: frozenset[int] = frozenset()
    leaves: frozenset[int] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.sections or self.devs or self.leaves)


_HEXES = r"0x[0-9a-f]+(?:(?:, | and )0x[0-9a-f]+)*"


def marks_from(message: str) -> Marks:
    """The sections, devices and vmemmap leaves a property's message names ("section 0x28",
    "dev 0", "vmemmap page 0x4000", "vmemmap pages 0x4000, 0x4001")."""

    def hexes(pattern: str) -> frozenset[int]:
        return frozenset(
            int(x, 16)
            for m in re.finditer(pattern + r"\s+(" + _HEXES + ")", message)
            for x in re.findall(r"0x[0-9a-f]+", m[1])
        )

    return Marks(
        sections=hexes(r"\bsections?"),
        devs=frozenset(int(m[1]) for m in re.finditer(r"\bdev[ =](\d+)\b", message)),
        leaves=hexes(r"\bvmemmap pages?"),
    )


class _Rows:
    """SVG rows of bars: each row's bars drawn first, then the labels that fit inside their own bar
    and do not run into a label already placed, so that no label lies under a bar or another label."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.bars: list[tuple[float, float, int, str, str, str, bool]] = []

    def bar(
        self, x0: float, x1: float, y: int, h: int, fill: str, title: str, text: str = "", bad: bool = False
    ) -> None:
        w = max(x1 - x0, 4.0)
        stroke = f'stroke="{_BAD}" stroke-width="3"' if bad else 'stroke="#333"'
        self.out.append(
            f'<rect x="{x0:.1f}" y="{y}" width="{w:.1f}" height="{h}" fill="{fill}" {stroke}>'
            f"<title>{escape(title)}</title></rect>"
        )
        self.bars.append((x0, x0 + w, y, text, fill, title, bad))

    def end_row(self) -> None:
        placed: list[tuple[float, float, int]] = []
        for x0, x1, y, text, fill, _, bad in self.bars:
            if not text:
                continue
            if bad:
                text = f"✗ {text}"
            room = int((x1 - x0 - 8) / _CHAR_W)
            if room < 4:
                continue
            if len(text) > room:
                text = text[: room - 1] + "…"
            a, b = x0 + 4, x0 + 4 + len(text) * _CHAR_W
            if any(y == py and a < pb and pa < b for pa, pb, py in placed):
                continue
            placed.append((a, b, y))
            color = "#ffffff" if fill in (_RESERVE_FILL, _BAD, _SYS_FILL) else "#000000"
            self.out.append(
                f'<text x="{a:.1f}" y="{y + 15}" font-size="11" fill="{color}">{escape(text)}</text>'
            )
        self.bars = []


def _legend(
    y: int, devs: list[int], has_sysmem: bool, has_reserve: bool, has_init: bool, marked: bool
) -> tuple[list[str], int]:
    """Swatches explaining every colour the map uses, wrapped over lines; the lines and their end."""
    items: list[tuple[str, str, str]] = [
        (_ZONE_FILL[0], "#333", "section in ZONE_NORMAL"),
        (_ZONE_FILL[1], "#333", "ZONE_MOVABLE"),
        (_ZONE_FILL[2], "#333", "ZONE_DEVICE"),
        (_ZONE_FILL[None], "#333", "present, no zone yet"),
    ]
    items += [
        (_DEV_FILL[d % len(_DEV_FILL)], "#333", f"dev {d}: its range, memmap in its altmap") for d in devs
    ]
    if has_sysmem:
        items.append((_SYS_FILL, "#333", "memmap in system memory"))
    if has_reserve:
        items.append((_RESERVE_FILL, "#333", "altmap reserve"))
        items.append(("#ffffff", "#333", "altmap free area"))
    if has_init:
        items.append((_INIT_FILL, _INIT_FILL, "struct pages initialised"))
    items.append(("#ffffff", _BAD, "✗ named in the violation" if marked else "✗ wrong (red outline)"))
    out = [f'<text x="8" y="{y + 12}" font-size="12" font-weight="bold">legend</text>']
    x, line_w = 70.0, 900
    for fill, stroke, text in items:
        w = 22 + len(text) * _CHAR_W + 16
        if x + w > line_w:
            x, y = 70.0, y + 18
        width = 3 if stroke == _BAD else 1
        out.append(
            f'<rect x="{x:.1f}" y="{y + 2}" width="16" height="12" fill="{fill}" stroke="{stroke}" '
            f'stroke-width="{width}"/>'
        )
        out.append(f'<text x="{x + 22:.1f}" y="{y + 12}" font-size="11">{escape(text)}</text>')
        x += w
    return out, y + 18


def svg_map(k: Kernel, s: KernelState, title: str, subtitle: str = "", marks: Marks | None = None) -> str:
    """The memory map as a standalone SVG picture: a row per kind of thing, each bar labelled with
    its start and end pfns where it has room (its tooltip always), a close-up of each altmap, a
    legend, and a red outline on what is wrong or what the violation's message names (`marks`)."""
    marks = marks or Marks()
    pps = k.arch.PAGES_PER_SECTION
    shift = k.arch.PFN_SECTION_SHIFT
    lo_sec, hi_sec = _window(k, s)
    nsec = hi_sec - lo_sec
    first = lo_sec << shift
    last = first + nsec * pps
    left, row_h, bar_h = 130, 28, 22
    sec_w = max(180, 760 // nsec)
    width = max(left + nsec * sec_w + 80, 8 + 9 * max(len(title), len(subtitle)) * 3 // 4, 920)
    rows = _Rows()
    out = rows.out
    y = 50

    def x_of(pfn: int) -> float:
        return left + (pfn - first) * sec_w / pps

    def heading(text: str, bad: bool = False) -> None:
        color = f' fill="{_BAD}"' if bad else ""
        out.append(f'<text x="8" y="{y + 15}" font-size="12" font-weight="bold"{color}>{escape(text)}</text>')

    for i in range(nsec + 1):
        x = left + i * sec_w
        out.append(f'<line x1="{x}" y1="{y - 14}" x2="{x}" y2="{{bottom}}" stroke="#ccc"/>')
        # each section's first pfn; the window's end pfn at its right edge
        at = f'x="{x - 3}" text-anchor="end"' if i == nsec else f'x="{x + 3}"'
        out.append(f'<text {at} y="{y - 4}" font-size="10">{(first + i * pps):#x}</text>')
    y += 4
    heading("sections", bool(marks.sections))
    for nr in range(lo_sec, hi_sec):
        m = s.section(nr)
        if m is not None:
            x0 = left + (nr - lo_sec) * sec_w
            lo = nr << shift
            bad = nr in marks.sections
            rows.bar(
                x0,
                x0 + sec_w,
                y,
                bar_h,
                _ZONE_FILL[m.zone],
                f"section {nr:#x} [{lo:#x}, {lo + pps:#x}) {ZONE_NAMES[m.zone]}"
                + (", named in the violation" if bad else ""),
                f"{nr:#x} {ZONE_NAMES[m.zone]}",
                bad,
            )
    rows.end_row()
    y += row_h
    for r in s.device_ranges:
        bad = r.dev in marks.devs
        heading(f"dev {r.dev}", bad)
        lo, hi = r.start_pfn.v, r.start_pfn.v + r.nr_pages.v
        text = f"dev {r.dev} [{lo:#x}, {hi:#x})" + (" +altmap" if r.altmap is not None else "")
        rows.bar(
            x_of(lo),
            x_of(hi),
            y,
            bar_h,
            _DEV_FILL[r.dev % len(_DEV_FILL)],
            text + (", named in the violation" if bad else ""),
            text,
            bad,
        )
        rows.end_row()
        y += row_h
    for res in s.resources:
        if res.owner == RAM_OWNER:
            heading("System RAM")
            lo, hi = res.start_pfn.v, res.start_pfn.v + res.nr_pages.v
            text = f"System RAM [{lo:#x}, {hi:#x})"
            rows.bar(x_of(lo), x_of(hi), y, bar_h, "#c7e9c0", text, text)
            rows.end_row()
            y += row_h
    views = leaf_views(k, s)
    if views:
        heading("vmemmap", any(v.verdict or v.leaf.index in marks.leaves for v in views))
        for v in views:
            lo, hi = max(v.describes[0], first), min(v.describes[1], last)
            if lo >= hi:
                continue
            fill = _SYS_FILL if v.leaf.source == SYSMEM else _DEV_FILL[v.leaf.source % len(_DEV_FILL)]
            bad = bool(v.verdict) or v.leaf.index in marks.leaves
            why = f": {v.verdict}" if v.verdict else (", named in the violation" if bad else "")
            rows.bar(
                x_of(lo),
                x_of(hi),
                y,
                bar_h,
                fill,
                f"leaf {v.leaf.index:#x} describes [{v.describes[0]:#x}, {v.describes[1]:#x}) "
                f"← {v.source}{why}",
                f"{v.leaf.index:#x} ← {v.source}",
                bad,
            )
        rows.end_row()
        y += row_h
    zoom_w = nsec * sec_w
    has_reserve = False
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
        out.append(f'<text x="{left + zoom_w}" y="{y - 4}" font-size="10" text-anchor="end">{hi:#x}</text>')

        def zx(pfn: int, lo: int = lo, hi: int = hi) -> float:
            return left + (pfn - lo) * zoom_w / (hi - lo)

        has_reserve = True
        free_lo, free_hi = base + reserve, base + reserve + free
        rows.bar(
            zx(free_lo),
            zx(free_hi),
            y,
            bar_h,
            "#ffffff",
            f"free area [{free_lo:#x}, {free_hi:#x}) (and alignment padding)",
        )
        if reserve:
            text = f"reserve [{base:#x}, {base + reserve:#x})"
            rows.bar(zx(base), zx(base + reserve), y, bar_h, _RESERVE_FILL, text, text)
        for v in views:
            if v.leaf.source == r.dev and v.backing is not None:
                b0, b1 = v.backing
                label = f"leaf {v.leaf.index:#x} [{b0:#x}, {b1:#x})"
                bad = bool(v.verdict) or v.leaf.index in marks.leaves
                why = f": {v.verdict}" if v.verdict else (", named in the violation" if bad else "")
                rows.bar(
                    zx(b0),
                    zx(b1),
                    y,
                    bar_h,
                    _BAD if v.verdict else _DEV_FILL[r.dev % len(_DEV_FILL)],
                    label + why,
                    label,
                    bad,
                )
        rows.end_row()
        y += row_h
        for iv in s.memmap_init:
            i0, i1 = max(iv.start_pfn.v, lo), min(iv.end_pfn.v, hi)
            if i0 < i1:
                out.append(
                    f'<rect x="{zx(i0):.1f}" y="{y - 4}" width="{max(zx(i1) - zx(i0), 2):.1f}" height="5" '
                    f'fill="{_INIT_FILL}"><title>struct pages initialised [{iv.start_pfn.v:#x}, '
                    f"{iv.end_pfn.v:#x})</title></rect>"
                )
        out.append(f'<text x="8" y="{y + 3}" font-size="10" fill="{_INIT_FILL}">initialised</text>')
        y += 10
    bottom = y + 4
    devs = sorted({r.dev for r in s.device_ranges} | {v.leaf.source for v in views if v.leaf.source >= 0})
    legend, end = _legend(
        bottom + 16,
        devs,
        any(v.leaf.source == SYSMEM for v in views),
        has_reserve,
        bool(s.memmap_init),
        bool(marks),
    )
    height = end + 12
    body = "\n".join(line.replace("{bottom}", str(bottom)) for line in [*out, *legend])
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="monospace">\n<rect width="100%" height="100%" fill="white"/>\n'
        f'<text x="8" y="18" font-size="14" font-weight="bold">{escape(title)}</text>\n'
        f'<text x="8" y="34" font-size="11">{escape(subtitle)}</text>\n{body}\n</svg>\n'
    )
