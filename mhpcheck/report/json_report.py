"""The JSON report of a check, one document per run, described by schemas/report.schema.json."""

from __future__ import annotations

import json
from typing import Any

from mhpcheck import __version__
from mhpcheck.core.exitcodes import ExitCode
from mhpcheck.core.results import CellResult, PropertyResult, Report
from mhpcheck.properties import property_named

SCHEMA = "mhpcheck-report"
SCHEMA_VERSION = 1

RUN_VERDICT = {
    ExitCode.HOLDS: "holds",
    ExitCode.VIOLATED: "violated",
    ExitCode.INCONCLUSIVE: "inconclusive",
    ExitCode.INTERRUPTED: "interrupted",  # the cells that finished are reported, no more
    ExitCode.TERMINATED: "interrupted",
}


def _property(p: PropertyResult) -> dict[str, Any]:
    return {
        "name": p.name,
        "kind": p.kind,
        "doc": property_named(p.name).doc,
        "verdict": p.verdict.value,
        "message": p.message,
        "finding": p.finding,
        "change": p.change,
        "baseline": p.baseline,
        "trace_file": p.trace_file,
        "steps": [str(t) for t in p.path],
    }


def _cell(c: CellResult) -> dict[str, Any]:
    return {
        "arch": c.arch,
        "variant": c.variant,
        "engine": c.engine,
        "bounds": dict(c.bounds),
        "complete": c.complete,
        "budget": c.budget,
        "states": c.states,
        "transitions": c.transitions,
        "depth": c.depth,
        "seconds": c.seconds,
        "properties": [_property(p) for p in c.properties],
    }


def document(report: Report, context: dict[str, Any]) -> dict[str, Any]:
    """The report as plain JSON data; `context` (configuration, command line) is kept verbatim."""
    code = report.exit_code()
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "mhpcheck", "version": __version__},
        "context": context,
        "exit_code": int(code),
        "verdict": RUN_VERDICT[code],
        "cells": [_cell(c) for c in report.cells],
        "skipped": [{"arch": a, "variant": v, "reason": why} for a, v, why in report.skipped],
        "stale_findings": [
            {"finding": fid, "property": prop, "arch": a, "variant": v} for fid, prop, a, v in report.stale
        ],
    }


def render(report: Report, context: dict[str, Any]) -> str:
    """The JSON document, indented by 2, ending in a newline; `context` must be JSON data."""
    return json.dumps(document(report, context), indent=2) + "\n"
