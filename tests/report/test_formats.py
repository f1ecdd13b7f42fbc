"""The JSON, JUnit and SARIF reports: valid against their schemas, and saying what the check found."""

import copy
import json
import xml.etree.ElementTree as ET
from dataclasses import replace
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from mhpcheck import __version__
from mhpcheck.checker import CheckRequest, run_check
from mhpcheck.core.results import PropertyResult, Report, Verdict
from mhpcheck.model.transitions import Bounds
from mhpcheck.properties import property_named
from mhpcheck.report import json_report, junit, sarif

ARCH = "x86_64"
PRE_PATCH = "v4.5-pre-altmap-hotplug"
SMALL = Bounds(depth=3, faults=0)
CONTEXT = {"command": "mhpcheck check --format json", "config": {"depth": 3, "faults": 0}}
# the OASIS SARIF 2.1.0 Errata 01 schema (JSON Schema draft-04), byte for byte as published
SARIF_SCHEMA = Path(__file__).with_name("sarif-schema-2.1.0.json")


def _trace_path(name, arch, variant):
    return f"mhpcheck-out/{name}--{arch}--{variant}.trace.json"


def _violation_report():
    report = run_check(CheckRequest(archs=(ARCH, "arm64-16k"), variants=(PRE_PATCH,), bounds=SMALL))
    for cell in report.cells:
        for p in cell.properties:
            if p.verdict in (Verdict.VIOLATED, Verdict.FINDING):
                p.trace_file = _trace_path(p.name, cell.arch, cell.variant)
    return report


@pytest.fixture(scope="module")
def violated() -> Report:
    """One x86_64 cell with violations and recorded findings; arm64-16k skipped for lack of the era."""
    return _violation_report()


@pytest.fixture(scope="module")
def inconclusive() -> Report:
    return run_check(CheckRequest(archs=(ARCH,), variants=("v5.9",), bounds=SMALL, max_states=5))


@pytest.fixture(scope="module")
def holds() -> Report:
    return run_check(CheckRequest(archs=(ARCH,), variants=("v5.9",), bounds=Bounds(depth=2, faults=0)))


@pytest.fixture(scope="module")
def stale(holds) -> Report:
    finding = ("reserve-skip-dead", "reserve_pfns_never_initialised", ARCH, "v5.9")
    return Report(cells=holds.cells, skipped=holds.skipped, stale=[finding])


@pytest.fixture(scope="module")
def report_schema():
    text = resources.files("mhpcheck").joinpath("schemas/report.schema.json").read_text()
    schema = json.loads(text)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture(scope="module")
def sarif_schema():
    schema = json.loads(SARIF_SCHEMA.read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _by_verdict(report, verdict):
    return [(c, p) for c in report.cells for p in c.properties if p.verdict == verdict]


def _all_properties(report):
    return [p for c in report.cells for p in c.properties]


# JSON


def test_the_pre_patch_variant_has_violations_and_findings_to_report(violated):
    assert len(violated.cells) == 1
    violated_names = {p.name for _, p in _by_verdict(violated, Verdict.VIOLATED)}
    assert {"invalid_altmap_rejected_with_einval", "map_offset_first_section_only"} <= violated_names
    assert _by_verdict(violated, Verdict.FINDING)
    assert violated.skipped


def test_json_report_of_a_violation_is_valid_and_names_every_property(violated, report_schema):
    text = json_report.render(violated, CONTEXT)
    doc = json.loads(text)
    report_schema.validate(doc)
    assert text.endswith("}\n")
    assert text.startswith('{\n  "schema": "mhpcheck-report",\n  "schema_version": 1,')
    assert list(doc) == [
        "schema",
        "schema_version",
        "tool",
        "context",
        "exit_code",
        "verdict",
        "cells",
        "skipped",
        "stale_findings",
    ]
    assert doc["tool"] == {"name": "mhpcheck", "version": __version__}
    assert doc["context"] == CONTEXT
    assert (doc["exit_code"], doc["verdict"]) == (1, "violated")
    [cell] = doc["cells"]
    assert (cell["arch"], cell["variant"], cell["engine"]) == (ARCH, PRE_PATCH, "explicit")
    assert cell["bounds"]["depth"] == 3
    assert cell["complete"] is True
    assert cell["states"] == violated.cells[0].states > 0
    assert [p["name"] for p in cell["properties"]] == [p.name for p in violated.cells[0].properties]
    by_name = {p["name"]: p for p in cell["properties"]}
    for _, p in _by_verdict(violated, Verdict.VIOLATED):
        entry = by_name[p.name]
        assert entry["verdict"] == "violated"
        assert entry["message"] == p.message != ""
        assert entry["doc"] == property_named(p.name).doc
        assert entry["steps"] == [str(t) for t in p.path]
        assert entry["steps"]
        assert entry["trace_file"] == _trace_path(p.name, ARCH, PRE_PATCH)
    for _, p in _by_verdict(violated, Verdict.FINDING):
        assert by_name[p.name]["finding"] == p.finding != ""
    assert doc["skipped"] == [
        {"arch": "arm64-16k", "variant": PRE_PATCH, "reason": violated.skipped[0][2]},
    ]
    assert doc["stale_findings"] == []


def test_json_report_is_the_same_for_the_same_check_but_for_the_seconds(violated):
    def without_seconds(report):
        doc = json.loads(json_report.render(report, CONTEXT))
        for cell in doc["cells"]:
            cell["seconds"] = 0
        return doc

    assert without_seconds(_violation_report()) == without_seconds(violated)


def test_json_report_of_a_budget_cut_is_inconclusive(inconclusive, report_schema):
    doc = json.loads(json_report.render(inconclusive, {}))
    report_schema.validate(doc)
    assert (doc["exit_code"], doc["verdict"]) == (3, "inconclusive")
    [cell] = doc["cells"]
    assert cell["complete"] is False
    assert cell["budget"] == "--max-states 5"
    verdicts = [p["verdict"] for p in cell["properties"]]
    assert verdicts.count("inconclusive") == len(_by_verdict(inconclusive, Verdict.INCONCLUSIVE)) > 0


def test_json_report_holds_and_lists_stale_findings(holds, stale, report_schema):
    doc = json.loads(json_report.render(holds, CONTEXT))
    report_schema.validate(doc)
    assert (doc["exit_code"], doc["verdict"]) == (0, "holds")
    assert {p["verdict"] for p in doc["cells"][0]["properties"]} == {"holds"}
    doc = json.loads(json_report.render(stale, CONTEXT))
    report_schema.validate(doc)
    assert (doc["exit_code"], doc["verdict"]) == (1, "violated")
    assert doc["stale_findings"] == [
        {
            "finding": "reserve-skip-dead",
            "property": "reserve_pfns_never_initialised",
            "arch": ARCH,
            "variant": "v5.9",
        }
    ]


@pytest.mark.parametrize(
    ("where", "change"),
    [
        ("an unknown property verdict", lambda d: d["cells"][0]["properties"][0].update(verdict="failed")),
        ("an extra top-level key", lambda d: d.update(results=[])),
        ("an extra cell key", lambda d: d["cells"][0].update(rate=1.0)),
        ("a missing property field", lambda d: d["cells"][0]["properties"][0].pop("steps")),
        ("a verdict that disagrees with the exit code", lambda d: d.update(exit_code=0)),
        ("a finding verdict without a finding id", lambda d: _first(d, "finding").update(finding="")),
        ("a cut cell with no budget", lambda d: d["cells"][0].update(complete=False)),
        ("another schema version", lambda d: d.update(schema_version=2)),
    ],
)
def test_report_schema_rejects(where, change, violated, report_schema):
    doc = json.loads(json_report.render(violated, CONTEXT))
    report_schema.validate(doc)
    change(doc)
    assert not report_schema.is_valid(doc), where


def _first(doc, verdict):
    return next(p for p in doc["cells"][0]["properties"] if p["verdict"] == verdict)


# JUnit


def _junit(report):
    text = junit.render(report, CONTEXT)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    return ET.fromstring(text.encode("utf-8"))


def test_junit_has_a_testcase_per_property_and_a_failure_per_violation(violated):
    root = _junit(violated)
    props = _all_properties(violated)
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == len(props)
    assert root.get("tests") == str(len(props))
    violations = _by_verdict(violated, Verdict.VIOLATED)
    assert root.get("failures") == str(len(violations))
    suite = root.find(f"./testsuite[@name='{ARCH} {PRE_PATCH}']")
    assert suite is not None
    assert suite.get("tests") == str(len(props))
    assert suite.get("failures") == str(len(violations))
    assert suite.get("skipped") == "0"
    assert float(suite.get("time")) == pytest.approx(violated.cells[0].seconds, abs=1e-3)
    failed = {c.get("name"): c for c in cases if c.find("failure") is not None}
    assert set(failed) == {p.name for _, p in violations}
    for _, p in violations:
        case = failed[p.name]
        assert case.get("classname") == f"mhpcheck.{ARCH}.{PRE_PATCH}"
        failure = case.find("failure")
        assert failure.get("message") == p.message
        assert _trace_path(p.name, ARCH, PRE_PATCH) in failure.text
        for t in p.path:
            assert str(t) in failure.text


def test_junit_passes_recorded_findings_and_names_them(violated):
    root = _junit(violated)
    findings = _by_verdict(violated, Verdict.FINDING)
    cases = {c.get("name"): c for c in root.findall("./testsuite/testcase")}
    for _, p in findings:
        case = cases[p.name]
        assert case.find("failure") is None
        assert case.find("skipped") is None
        assert p.finding in case.find("system-out").text


def test_junit_reports_a_skipped_cell_as_an_empty_suite(violated):
    suite = _junit(violated).find(f"./testsuite[@name='arm64-16k {PRE_PATCH}']")
    assert suite.get("tests") == "0"
    assert "no device memory" in suite.find("system-out").text


def test_junit_skips_inconclusive_properties(inconclusive):
    root = _junit(inconclusive)
    undecided = _by_verdict(inconclusive, Verdict.INCONCLUSIVE)
    skipped = root.findall("./testsuite/testcase/skipped")
    assert len(skipped) == len(undecided) > 0
    assert root.get("skipped") == str(len(undecided))
    assert root.get("failures") == "0"
    assert {s.get("message") for s in skipped} >= {"cut by --max-states 5"}


def test_junit_skips_properties_that_do_not_apply(holds):
    cell = holds.cells[0]
    na = PropertyResult("altmap_exhausted", "reachable", Verdict.NOT_APPLICABLE)
    report = Report(cells=[replace(cell, properties=[*cell.properties, na])])
    root = _junit(report)
    case = root.find("./testsuite/testcase[@name='altmap_exhausted'][skipped]")
    assert case is not None
    assert root.get("skipped") == "1"


def test_junit_fails_a_stale_finding(stale):
    root = _junit(stale)
    assert root.get("tests") == str(len(_all_properties(stale)) + 1)
    assert root.get("failures") == "1"
    [failure] = root.findall("./testsuite/testcase/failure")
    assert failure.get("type") == "stale-finding"
    assert "reserve-skip-dead" in failure.get("message")


def test_junit_stays_well_formed_whatever_the_message(violated):
    report = copy.deepcopy(violated)
    _, p = _by_verdict(report, Verdict.VIOLATED)[0]
    p.message = 'a <b> & "c" \x01 end'
    failure = _junit(report).find(f"./testsuite/testcase[@name='{p.name}']/failure")
    assert failure.get("message") == 'a <b> & "c" \ufffd end'


# SARIF


def test_sarif_of_a_violation_is_valid_and_has_a_result_per_violation(violated, sarif_schema):
    log = json.loads(sarif.render(violated, CONTEXT))
    sarif_schema.validate(log)
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0"
    [run] = log["runs"]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("mhpcheck", __version__)
    rules = driver["rules"]
    assert [r["id"] for r in rules] == [p.name for p in violated.cells[0].properties]
    for r in rules:
        assert r["shortDescription"]["text"] == property_named(r["id"]).doc
    errors = [r for r in run["results"] if r["level"] == "error"]
    violations = _by_verdict(violated, Verdict.VIOLATED)
    assert sorted(r["ruleId"] for r in errors) == sorted(p.name for _, p in violations)
    for _, p in violations:
        [result] = [r for r in errors if r["ruleId"] == p.name]
        assert rules[result["ruleIndex"]]["id"] == p.name
        assert p.message in result["message"]["text"]
        assert f"{ARCH} {PRE_PATCH}" in result["message"]["text"]
        [loc] = result["locations"]
        assert loc["physicalLocation"]["artifactLocation"]["uri"] == _trace_path(p.name, ARCH, PRE_PATCH)
        assert loc["logicalLocations"][0]["fullyQualifiedName"] == f"{ARCH}/{PRE_PATCH}"
        steps = result["codeFlows"][0]["threadFlows"][0]["locations"]
        assert [s["location"]["message"]["text"] for s in steps] == [str(t) for t in p.path]
    invocation = run["invocations"][0]
    assert invocation["exitCode"] == 1
    assert invocation["properties"]["context"] == CONTEXT


def test_sarif_reports_recorded_findings_as_notes(violated):
    run = json.loads(sarif.render(violated, CONTEXT))["runs"][0]
    notes = [r for r in run["results"] if r["level"] == "note"]
    findings = _by_verdict(violated, Verdict.FINDING)
    assert sorted(r["ruleId"] for r in notes) == sorted(p.name for _, p in findings)
    assert {r["properties"]["finding"] for r in notes} == {p.finding for _, p in findings}


def test_sarif_of_a_cut_run_has_no_results_but_says_why(inconclusive, sarif_schema):
    log = json.loads(sarif.render(inconclusive, {}))
    sarif_schema.validate(log)
    run = log["runs"][0]
    assert [r for r in run["results"] if r["level"] == "error"] == []
    invocation = run["invocations"][0]
    assert invocation["exitCode"] == 3
    [note] = invocation["toolExecutionNotifications"]
    assert note["level"] == "warning"
    assert "--max-states 5" in note["message"]["text"]


def test_sarif_reports_a_stale_finding_as_an_error(stale, sarif_schema):
    log = json.loads(sarif.render(stale, CONTEXT))
    sarif_schema.validate(log)
    run = log["runs"][0]
    [result] = run["results"]
    assert (result["ruleId"], result["level"]) == ("stale-finding", "error")
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "stale-finding"
    assert "reserve-skip-dead" in result["message"]["text"]


def test_sarif_schema_rejects_a_wrong_level(violated, sarif_schema):
    log = json.loads(sarif.render(violated, CONTEXT))
    log["runs"][0]["results"][0]["level"] = "fatal"
    assert not sarif_schema.is_valid(log)
