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
