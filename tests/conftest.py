"""Shared test settings: Hypothesis profiles ("ci" derandomised, no deadline)."""

import os
import sys
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", derandomize=True, deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", deadline=None, max_examples=100)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def cli_run(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """Run the console entry point as a user does: its exit code, stdout and stderr."""

    def run(*args: str) -> tuple[int, str, str]:
        from mhpcheck import cli

        old = sys.argv
        sys.argv = ["mhpcheck", *args]
        try:
            with pytest.raises(SystemExit) as e:
                cli.run()
        finally:
            sys.argv = old
        out, err = capsys.readouterr()
        return int(e.value.code or 0), out, err

    return run


@pytest.fixture(autouse=True)
def every_written_trace_is_enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every trace a test makes mhpcheck write is re-checked, step by step, for enabledness:
    each action must be one the environment offers in the state it is taken from."""
    from mhpcheck import trace

    real = trace.write_trace

    def checked(doc, directory):  # type: ignore[no-untyped-def]
        path = real(doc, directory)
        t = trace.load_trace(path)
        from mhpcheck.engines.cell import Cell

        Cell(t.arch, t.variant, t.bounds).replay(t.path)  # raises NotEnabled, naming the step
        return path

    monkeypatch.setattr(trace, "write_trace", checked)
