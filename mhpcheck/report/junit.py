"""The JUnit XML report of a check: a testsuite per (arch, variant) cell, a testcase per property."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from mhpcheck.core.results import REGRESSION, WORSE, CellResult, PropertyResult, Report, Verdict
from mhpcheck.properties import property_named
from mhpcheck.report.text import interrupted_signal

# XML 1.0 has no way to write these, not even escaped: ElementTree would emit a file no parser reads
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _classname(arch: str, variant: str) -> str:
    return f"mhpcheck.{arch}.{variant}"


def _trace_lines(p: PropertyResult) -> list[str]:
    if not p.trace_file:
        return []
    return [f"trace   {p.trace_file}", f"replay  mhpcheck replay {p.trace_file}"]


def _steps(p: PropertyResult) -> list[str]:
    return ["   0  init", *(f"{i:4d}  {t}" for i, t in enumerate(p.path, 1))]


def _testcase(suite: ET.Element, cell: CellResult, p: PropertyResult) -> ET.Element:
    case = ET.SubElement(
        suite, "testcase", {"classname": _classname(cell.arch, cell.variant), "name": _clean(p.name)}
    )
    if p.verdict == Verdict.VIOLATED or p.change == WORSE:
        doc = property_named(p.name).doc
        kind = p.change if p.change in (REGRESSION, WORSE) else p.kind
        message = f"{p.change}: {p.note}: {p.message}" if p.change in (REGRESSION, WORSE) else p.message
        failure = ET.SubElement(case, "failure", {"message": _clean(message), "type": kind})
        failure.text = _clean("\n".join([*_steps(p), doc, message, *_trace_lines(p)]))
    elif p.verdict == Verdict.INCONCLUSIVE:
        ET.SubElement(case, "skipped", {"message": _clean(p.message or "inconclusive")})
    elif p.verdict == Verdict.NOT_APPLICABLE:
        ET.SubElement(case, "skipped", {"message": _clean(p.message or "not applicable to this cell")})
    elif p.verdict == Verdict.FINDING:
        # a recorded kernel bug the model reproduces, as it should: reported, but the run passes
        out = ET.SubElement(case, "system-out")
        out.text = _clean(
            "\n".join(
                [f"known kernel finding {p.finding} (mhpcheck list findings)", p.message, *_trace_lines(p)]
            )
        )
    return case


def _stale_testcase(suite: ET.Element, fid: str, prop: str, arch: str, variant: str) -> None:
    case = ET.SubElement(
        suite, "testcase", {"classname": _classname(arch, variant), "name": _clean(f"recorded finding {fid}")}
    )
    message = f"recorded finding {fid} no longer shows: {prop} holds on {arch} {variant}"
    failure = ET.SubElement(case, "failure", {"message": _clean(message), "type": "stale-finding"})
    failure.text = _clean(message)


def _count(suite: ET.Element, seconds: float) -> tuple[int, int, int, int]:
    cases = suite.findall("testcase")
    tests = len(cases)
    failures = sum(1 for c in cases if c.find("failure") is not None)
    errors = sum(1 for c in cases if c.find("error") is not None)
    skipped = sum(1 for c in cases if c.find("skipped") is not None)
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suite.set("skipped", str(skipped))
    suite.set("time", f"{seconds:.3f}")
    return tests, failures, errors, skipped


def render(report: Report, context: dict[str, Any]) -> str:
    """The JUnit XML document; `context` is accepted for a uniform signature and not written."""
    root = ET.Element("testsuites", {"name": "mhpcheck"})
    suites: dict[tuple[str, str], tuple[ET.Element, float]] = {}
    for cell in report.cells:
        suite = ET.SubElement(root, "testsuite", {"name": f"{cell.arch} {cell.variant}"})
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", {"name": "engine", "value": cell.engine})
        for key, value in cell.bounds.items():
            ET.SubElement(props, "property", {"name": f"bounds.{key}", "value": str(value)})
        ET.SubElement(props, "property", {"name": "states", "value": str(cell.states)})
        ET.SubElement(props, "property", {"name": "depth", "value": str(cell.depth)})
        if cell.budget:
            ET.SubElement(props, "property", {"name": "budget", "value": _clean(cell.budget)})
        for p in cell.properties:
            _testcase(suite, cell, p)
        suites[(cell.arch, cell.variant)] = (suite, cell.seconds)
    for fid, prop, arch, variant in report.stale:
        if (arch, variant) not in suites:
            suite = ET.SubElement(root, "testsuite", {"name": f"{arch} {variant}"})
            suites[(arch, variant)] = (suite, 0.0)
        _stale_testcase(suites[(arch, variant)][0], fid, prop, arch, variant)
    for arch, variant, why in report.skipped:
        suite = ET.SubElement(root, "testsuite", {"name": f"{arch} {variant}"})
        out = ET.SubElement(suite, "system-out")
        out.text = _clean(f"skipped: {why}")
        suites[(arch, variant)] = (suite, 0.0)
    if report.interrupted is not None:
        # a run a signal stopped passes nothing: one error says so, whatever the cells done say
        suite = ET.SubElement(root, "testsuite", {"name": "mhpcheck run"})
        case = ET.SubElement(suite, "testcase", {"classname": "mhpcheck", "name": "run completed"})
        message = (
            f"interrupted ({interrupted_signal(report)}) after {len(report.cells)} of {report.planned} "
            "cells: the others were not checked"
        )
        ET.SubElement(case, "error", {"message": message, "type": "interrupted"})
        suites[("", "")] = (suite, 0.0)
    totals = [0, 0, 0, 0]
    for suite, seconds in suites.values():
        for i, n in enumerate(_count(suite, seconds)):
            totals[i] += n
    root.set("tests", str(totals[0]))
    root.set("failures", str(totals[1]))
    root.set("errors", str(totals[2]))
    root.set("skipped", str(totals[3]))
    root.set("time", f"{sum(c.seconds for c in report.cells):.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
