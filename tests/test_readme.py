"""The README's examples are real: its command blocks against the commands' real output, where
running them is cheap, and the exit codes it lists against mhpcheck's."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from mhpcheck.core.exitcodes import ExitCode

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()

# Commands shown with their output that take seconds, and how many of the lines shown to compare
# (None: all of them)
EXAMPLE = "tests/review/upstream/cf387d9644d8_altmap_crosses_namespace_boundary.py"
CHEAP = {
    "mhpcheck check --variant v4.5-pre-altmap-hotplug --arch x86_64": 1,
    "mhpcheck bisect --property altmap_leaves_describe_own_device --arch powerpc64-hash": None,
    f"mhpcheck diff --variant v5.9 --patch {EXAMPLE} --arch powerpc64-hash": 7,
}


def shown() -> dict[str, list[str]]:
    """Each `$ mhpcheck ...` line of the README's code blocks, with the output lines shown under it."""
    out: dict[str, list[str]] = {}
    inside, command = False, None
    for line in README.splitlines():
        if line.startswith("```"):
            inside, command = not inside, None
        elif inside and line.startswith("$ mhpcheck "):
            command = line[2:].split("  #")[0].strip()
            out.setdefault(command, [])
        elif inside and command is not None:
            out[command].append(line)
    return out


def normal(line: str) -> str:
    """A line with its timings (which vary from run to run, and so their padding) blanked out."""
    line = re.sub(r"\d+\.\d+ s\b", "<t> s", line)
    line = re.sub(r"\d+ states/s", "<n> states/s", line)
    return " ".join(line.split())


@pytest.mark.slow
@pytest.mark.parametrize("command", sorted(CHEAP))
def test_the_readme_shows_what_the_command_prints(command: str, cli_run) -> None:  # type: ignore[no-untyped-def]
    blocks = shown()
    assert command in blocks, f"the README no longer shows `{command}`"
    expected = [line for line in blocks[command] if line.strip()]
    args = [str(REPO / a) if a == EXAMPLE else a for a in shlex.split(command)[1:]]
    code, out, err = cli_run(*args)
    assert code in (0, 1) and "Traceback" not in err, err
    real = out.splitlines()
    n = CHEAP[command]
    want = expected if n is None else expected[:n]
    assert [normal(x) for x in real[: len(want)]] == [normal(x) for x in want], f"README: `{command}`"


def test_the_readme_lists_every_exit_code() -> None:
    table = dict(re.findall(r"^\| (\d+) \| ([^|]+) \|$", README, re.MULTILINE))
    assert sorted(int(k) for k in table) == sorted(int(c) for c in ExitCode)


def test_help_lists_every_exit_code(cli_run) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli_run("--help")
    text = " ".join(out.split())
    assert code == 0
    for c in ExitCode:
        assert f" {int(c)} " in text, f"--help does not list exit {int(c)}"
