"""The SARIF 2.1.0 report of a check: a rule per property, a result per violation or recorded finding."""

from __future__ import annotations

import json
from pathlib import PurePath
from typing import Any
from urllib.parse import quote

from mhpcheck import __version__
from mhpcheck.core.results import REGRESSION, WORSE, CellResult, PropertyResult, Report, Verdict
from mhpcheck.properties import property_named
from mhpcheck.report.text import interrupted_signal

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
STALE_RULE = "stale-finding"
_STALE_DOC = "A recorded kernel finding still shows on the kernels it is recorded for."


def _uri(path: str) -> str:
    return quote(PurePath(path).as_posix())


def _location(arch: str, variant: str, trace_file: str = "") -> dict[str, Any]:
    where = f"{arch}/{variant}"
    loc: dict[str, Any] = {}
    if trace_file:
        loc["physicalLocation"] = {"artifactLocation": {"uri": _uri(trace_file)}}
    loc["logicalLocations"] = [{"name": where, "fullyQualifiedName": where}]
    return loc


def _rules(report: Report) -> list[dict[str, Any]]:
    rules: dict[str, dict[str, Any]] = {}
    for cell in report.cells:
        for p in cell.properties:
            if p.name not in rules:
                rules[p.name] = {
                    "id": p.name,
                    "shortDescription": {"text": property_named(p.name).doc},
                    "defaultConfiguration": {"level": "error"},
                    "properties": {"kind": p.kind},
                }
    if report.stale:
        rules[STALE_RULE] = {
            "id": STALE_RULE,
            "shortDescription": {"text": _STALE_DOC},
            "defaultConfiguration": {"level": "error"},
        }
    return list(rules.values())


def _code_flow(p: PropertyResult) -> list[dict[str, Any]]:
    if not p.path:
        return []
    steps = [
        {"location": {"message": {"text": str(t)}}, "executionOrder": i} for i, t in enumerate(p.path, 1)
    ]
    return [{"threadFlows": [{"locations": steps}]}]


def _result(cell: CellResult, p: PropertyResult, index: int) -> dict[str, Any]:
    message = p.message or property_named(p.name).doc
    properties: dict[str, Any] = {"arch": cell.arch, "variant": cell.variant}
    if p.change:
        properties["change"], properties["baseline"] = p.change, p.baseline
    if p.verdict == Verdict.FINDING and p.change != WORSE:
        # a recorded kernel bug the model reproduces, as it should: worth seeing, not a failure of the run
        level = "note"
        text = f"known kernel finding {p.finding}: {message} (on {cell.arch} {cell.variant})"
        properties["finding"] = p.finding
    elif p.change in (REGRESSION, WORSE):
        level = "error"
        text = f"{p.change} ({p.note}): {message} (on {cell.arch} {cell.variant})"
    else:
        level = "error"
        text = f"{message} (on {cell.arch} {cell.variant})"
    result: dict[str, Any] = {
        "ruleId": p.name,
        "ruleIndex": index,
        "level": level,
        "message": {"text": text},
        "locations": [_location(cell.arch, cell.variant, p.trace_file)],
    }
    flows = _code_flow(p)
    if flows:
        result["codeFlows"] = flows
    result["properties"] = properties
    return result


def _notifications(report: Report) -> list[dict[str, Any]]:
    notes = []
    for cell in report.cells:
        if not cell.complete:
            notes.append(
                {
                    "level": "warning",
                    "message": {"text": f"{cell.arch} {cell.variant}: inconclusive, cut by {cell.budget}"},
                    "locations": [_location(cell.arch, cell.variant)],
                }
            )
    for arch, variant, why in report.skipped:
        notes.append(
            {
                "level": "note",
                "message": {"text": f"{arch} {variant}: skipped, {why}"},
                "locations": [_location(arch, variant)],
            }
        )
    if report.interrupted is not None:
        text = (
            f"interrupted ({interrupted_signal(report)}) after {len(report.cells)} of {report.planned} "
            "cells: the others were not checked"
        )
        notes.append({"level": "error", "message": {"text": text}})
    return notes


def document(report: Report, context: dict[str, Any]) -> dict[str, Any]:
    """The SARIF log as plain JSON data; `context` goes into the invocation's property bag."""
    rules = _rules(report)
    index = {r["id"]: i for i, r in enumerate(rules)}
    results = [
        _result(cell, p, index[p.name])
        for cell in report.cells
        for p in cell.properties
        if p.verdict in (Verdict.VIOLATED, Verdict.FINDING)
    ]
    for fid, prop, arch, variant in report.stale:
        results.append(
            {
                "ruleId": STALE_RULE,
                "ruleIndex": index[STALE_RULE],
                "level": "error",
                "message": {
                    "text": f"recorded finding {fid} no longer shows: {prop} holds on {arch} {variant}"
                },
                "locations": [_location(arch, variant)],
                "properties": {"finding": fid, "property": prop, "arch": arch, "variant": variant},
            }
        )
    invocation: dict[str, Any] = {
        "executionSuccessful": report.interrupted is None,
        "exitCode": int(report.exit_code()),
    }
    command = context.get("command")
    if isinstance(command, str):
        invocation["commandLine"] = command
    notes = _notifications(report)
    if notes:
        invocation["toolExecutionNotifications"] = notes
    invocation["properties"] = {"context": context}
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "mhpcheck", "version": __version__, "rules": rules}},
                "invocations": [invocation],
                "results": results,
            }
        ],
    }


def render(report: Report, context: dict[str, Any]) -> str:
    """The SARIF log, indented by 2, ending in a newline; `context` must be JSON data."""
    return json.dumps(document(report, context), indent=2) + "\n"
