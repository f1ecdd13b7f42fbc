"""The state graph at small bounds as a networkx graph, written as DOT or GraphML, violations in red."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import networkx as nx

from mhpcheck.core.results import CellResult, Verdict
from mhpcheck.core.spec import ON_STEP
from mhpcheck.engines.cell import Cell
from mhpcheck.engines.explicit import explore, fingerprint
from mhpcheck.model.errno import errname
from mhpcheck.model.state import SYSMEM, KernelState, state_bytes
from mhpcheck.model.transitions import Transition
from mhpcheck.properties import property_named

VIOLATION_COLOUR = "red"


def state_label(s: KernelState) -> str:
    """A few words per state: each device range, the present sections, who backs the vmemmap."""
    if state_bytes(s) == state_bytes(KernelState()):
        return "init"
    parts = []
    for r in s.device_ranges:
        alt = ""
        if r.altmap is not None:
            a = r.altmap
            alt = f" altmap r={a.reserve.v:#x} f={a.free.v:#x} alloc={a.alloc.v:#x}"
        parts.append(f"dev{r.dev} [{r.start_pfn.v:#x}+{r.nr_pages.v:#x}]{alt}")
    if s.sections:
        zones = {None: "-", 0: "N", 1: "M", 2: "D"}
        parts.append("sections " + " ".join(f"{m.section_nr:#x}{zones[m.zone]}" for m in s.sections))
    if s.vmemmap:
        by: dict[str, int] = {}
        for leaf in s.vmemmap:
            src = "sys" if leaf.source == SYSMEM else f"dev{leaf.source}"
            by[src] = by.get(src, 0) + leaf.count
        parts.append("vmemmap " + ", ".join(f"{n} {src}" for src, n in by.items()))
    if s.sysmem_vmemmap_pages:
        parts.append(f"sysmem pages {s.sysmem_vmemmap_pages}")
    return "\n".join(parts)


@dataclass
class StateGraph:
    graph: nx.MultiDiGraph
    cell: CellResult
    highlighted: tuple[str, ...]  # the properties whose counterexample paths are drawn in red


def key(s: KernelState) -> bytes:
    """A state's node key: the explorer's fingerprint of it (exploration here is without symmetry)."""
    return fingerprint(state_bytes(s))


def state_graph(cell: Cell, max_states: int | None = None, time_budget: float | None = None) -> StateGraph:
    """Explore (without symmetry reduction) recording every edge; mark each violated property's path."""
    g: nx.MultiDiGraph = nx.MultiDiGraph(name=f"mhpcheck {cell.name}")
    ids: dict[bytes, str] = {}

    def on_state(key: bytes, s: KernelState, parent: bytes | None, t: Transition | None) -> None:
        ids[key] = f"s{len(ids)}"
        g.add_node(ids[key], label=state_label(s))

    edges: list[tuple[bytes, Transition, bytes]] = []

    def on_edge(a: bytes, t: Transition, b: bytes) -> None:
        edges.append((a, t, b))

    result = explore(cell, max_states, time_budget, on_state=on_state, on_edge=on_edge)
    for a, t, b in edges:
        if a in ids and b in ids:
            g.add_edge(ids[a], ids[b], label=str(t))
    highlighted = []
    for p in result.properties:
        if p.verdict != Verdict.VIOLATED or not p.path:
            continue
        highlighted.append(p.name)
        steps = cell.replay(p.path)
        last: dict[str, Any] | None = None
        for st in steps:
            src, dst = ids.get(key(st.before)), ids.get(key(st.after))
            if src is None or dst is None:
                break
            attrs: dict[str, Any]
            for attrs in g.get_edge_data(src, dst, default={}).values():
                if attrs["label"].partition(" = ")[0] == str(st.transition):
                    attrs["color"] = VIOLATION_COLOUR
                    attrs["label"] = f"{st.transition} = {errname(st.ret)}"
                    last = attrs
            g.nodes[src]["color"] = g.nodes[dst]["color"] = VIOLATION_COLOUR
        # an invariant fails in the state reached, a step property on the step taken
        on_step = property_named(p.name).judged_on == ON_STEP
        target = last if on_step else g.nodes[ids[key(steps[-1].after)]]
        if target is not None:
            target["violates"] = " ".join(filter(None, (str(target.get("violates", "")), p.name)))
            target["penwidth"] = 3
    return StateGraph(g, result, tuple(highlighted))


def to_dot(sg: StateGraph) -> str:
    g = sg.graph.copy()
    for _, attrs in g.nodes(data=True):
        if "violates" in attrs:
            attrs["xlabel"] = f"✗ {attrs['violates']}"
    for _, _, attrs in g.edges(data=True):
        if "violates" in attrs:
            attrs["label"] += f"\n✗ {attrs['violates']}"
    dot = nx.nx_pydot.to_pydot(g)
    dot.set_node_defaults(shape="box", fontname="monospace", fontsize="9")
    dot.set_edge_defaults(fontname="monospace", fontsize="8")
    return str(dot.to_string())


def to_graphml(sg: StateGraph) -> str:
    return "\n".join(nx.generate_graphml(sg.graph)) + "\n"
