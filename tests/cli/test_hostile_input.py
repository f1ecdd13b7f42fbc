"""Hostile input: files and names made to break mhpcheck or the machine it runs on.

Every case asserts the exit code, one line on stderr with no traceback, and that nothing was
replaced or left behind.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
TRACE = REPO / "traces" / "map_offset_first_section_only--x86_64--v4.5-pre-altmap-hotplug.trace.json"


def refused(result: tuple[int, str, str], says: str = "", code: int = 2) -> str:
    """The one line a refusal printed on stderr, after checking the exit code and the line."""
    got, out, err = result
    lines = err.splitlines()
    assert got == code, (got, out, err)
    assert "Traceback" not in err + out, err
    assert len(lines) == 1, err
    assert len(lines[0]) <= 520, lines[0][:600]
    assert says in lines[0], lines[0]
    return lines[0]


def trace_doc() -> dict[str, Any]:
    return json.loads(TRACE.read_text())  # type: ignore[no-any-return]


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# -- traces ---------------------------------------------------------------------------------


def test_a_million_digit_integer_in_a_trace(tmp_path: Path, cli_run) -> None:  # type: ignore[no-untyped-def]
    text = TRACE.read_text().replace('"ret": 0', '"ret": ' + "9" * 10**6, 1)
    f = write(tmp_path / "t.trace.json", text)
    line = refused(cli_run("replay", str(f)), "digits")
    assert str(f) in line and "states/1/#meta/ret" in line


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000,
        "[" * 100_000 + "]" * 100_000,
        '{"a":' * 50_000 + "1" + "}" * 50_000,
    ],
    ids=["open-arrays", "closed-arrays", "objects"],
)
def test_deeply_nested_json_alone(tmp_path: Path, cli_run, text: str) -> None:  # type: ignore[no-untyped-def]
    f = write(tmp_path / "t.trace.json", text)
    refused(cli_run("replay", str(f)), str(f))
    refused(cli_run("show", str(f)), str(f))


def test_deeply_nested_json_inside_a_valid_trace(tmp_path: Path, cli_run) -> None:  # type: ignore[no-untyped-def]
    doc = trace_doc()
    doc["#meta"]["config"] = {"x": "@@"}
    text = json.dumps(doc).replace('"@@"', "[" * 100_000 + "]" * 100_000)
    f = write(tmp_path / "t.trace.json", text)
    refused(cli_run("replay", str(f)), str(f))
    doc["#meta"]["config"] = {"x": "@@"}
    text = json.dumps(doc).replace('"@@"', '{"a":' * 50_000 + "1" + "}" * 50_000)
    f = write(tmp_path / "t.trace.json", text)
    refused(cli_run("replay", str(f)), "#meta/config/x/a/a")


def test_a_million_digit_hex_value_gives_a_short_line(tmp_path: Path, cli_run) -> None:  # type: ignore[no-untyped-def]
    text = TRACE.read_text().replace('"0x140000"', '"0x' + "f" * 10**6 + '"', 1)
    f = write(tmp_path / "t.trace.json", text)
    line = refused(cli_run("replay", str(f)), str(f))
    assert len(line) < 400


def test_trace_bounds_are_checked(tmp_path: Path, cli_run) -> None:  # type: ignore[no-untyped-def]
    for value in ("two", 10**9, True, None):
        doc = trace_doc()
        doc["#meta"]["bounds"]["sections"] = value
        f = write(tmp_path / "t.trace.json", json.dumps(doc))
        refused(cli_run("replay", str(f)), "#meta/bounds/sections")


def test_a_fifo_as_a_trace_is_refused_not_waited_on(tmp_path: Path, cli_run) -> None:  # type: ignore[no-untyped-def]
    fifo = tmp_path / "t.trace.json"
    os.mkfifo(fifo)
    t0 = time.monotonic()
    refused(cli_run("replay", str(fifo)), "a FIFO, not a regular file")
    refused(cli_run("show", str(fifo)), "a FIFO")
    assert time.monotonic() - t0 < 30


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_a_device_as_a_trace(cli_run, device: str) -> None:  # type: ignore[no-untyped-def]
    refused(cli_run("replay", device), "a character device, not a regular file")


def test_a_trace_over_the_size_cap_is_not_read(tmp_path: Path, cli_run) -> None:  # type: ignore[no-untyped-def]
    big = tmp_path / "big.trace.json"
    with big.open("wb") as f:
        f.truncate(1 << 40)  # a sparse terabyte: reading it would take the machine
    refused(cli_run("replay", str(big)), "a trace is at most 32.0 MiB")


def test_a_folder_as_a_trace(tmp_path: Path, cli_run) -> None:  # type: ignore[no-untyped-def]
    refused(cli_run("replay", str(tmp_path)), "is a directory")


# -- configuration files --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("arch = " + "[" * 100_000 + "]" * 100_000, "nested deeper than"),
        ("depth = " + "9" * 5_000, "line 1, key depth: an integer of 5,000 digits"),
        ("depth = " + "9" * 4_000, "depth: 9999"),
        ("arch = " + "[" * 70 + "'x86_64'" + "]" * 70, "at arch[0][0]"),
        ("[[" * 3 + "a]]", ""),
    ],
    ids=["nested-arrays", "5000-digits", "4000-digits", "70-deep", "bad-table"],
)
def test_hostile_config(tmp_path: Path, cli_run, text: str, says: str) -> None:  # type: ignore[no-untyped-def]
    f = write(tmp_path / "mhpcheck.toml", text + "\n")
    line = refused(cli_run("--config", str(f), "check"), says)
    assert str(f) in line


@pytest.mark.parametrize("device", ["/dev/urandom", "/dev/zero", "/dev/stdin"])
def test_config_from_a_device_is_refused_before_it_is_read(cli_run, device: str) -> None:  # type: ignore[no-untyped-def]
    if device == "/dev/stdin" and not Path(device).exists():
        pytest.skip("no /dev/stdin here")
    refused(cli_run("--config", device, "check"), "not a regular file")


def test_config_fifo_and_oversized_config(tmp_path: Path, cli_run) -> None:  # type: ignore[no-untyped-def]
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    refused(cli_run("--config", str(fifo), "check"), "a FIFO")
    big = write(tmp_path / "big.toml", "# padding\n" * 200_000)
    refused(cli_run("--config", str(big), "check"), "a configuration is at most 1.0 MiB")


def test_an_odd_pyproject_in_a_parent_is_not_our_input(tmp_path: Path, monkeypatch, cli_run) -> None:  # type: ignore[no-untyped-def]
    write(tmp_path / "pyproject.toml", "x = " + "[" * 100_000)
    sub = tmp_path / "sub"
    sub.mkdir()
    monkeypatch.chdir(sub)
    code, out, _ = cli_run("list", "archs")
    assert code == 0 and "x86_64" in out


# -- variant names --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variant", "says"),
    [
        ("eras+alloc-not-reset", "'eras' takes no mutant: name an era, e.g. v4.5+alloc-not-reset"),
        ("v4.5+", "variant 'v4.5+' names no mutant after '+'"),
        ("v4.5@foo", "a patched kernel is checked with --patch FILE"),
        ("v4.5@", "a patched kernel is checked with --patch FILE"),
    ],
)
def test_variant_names_that_are_no_variant(cli_run, variant: str, says: str) -> None:  # type: ignore[no-untyped-def]
    refused(cli_run("check", "--arch", "x86_64", "--variant", variant), says)
    refused(cli_run("graph", "--variant", variant), says)
    refused(cli_run("diff", "--variant", "v4.5", "--variant", variant), says)


def test_variant_names_in_a_config(tmp_path: Path, cli_run) -> None:  # type: ignore[no-untyped-def]
    f = write(tmp_path / "mhpcheck.toml", "variant = 'v4.5@foo'\n")
    refused(cli_run("--config", str(f), "check"), "variant: variant 'v4.5@foo'")


@pytest.mark.parametrize("command", ["replay", "show"])
def test_eras_is_not_one_variant_for_replay_and_show(cli_run, command: str) -> None:  # type: ignore[no-untyped-def]
    refused(cli_run(command, str(TRACE), "--variant", "eras"), "'eras' is not one variant here")


def test_eras_is_not_one_cell_for_graph(cli_run) -> None:  # type: ignore[no-untyped-def]
    refused(cli_run("graph", "--variant", "eras"), "name one era, not 'eras'")


def test_a_trace_naming_an_empty_mutant(tmp_path: Path, cli_run) -> None:  # type: ignore[no-untyped-def]
    doc = trace_doc()
    doc["#meta"]["variant"] = "v4.5+"
    f = write(tmp_path / "t.trace.json", json.dumps(doc))
    refused(cli_run("replay", str(f)), "unknown variant 'v4.5+'")
