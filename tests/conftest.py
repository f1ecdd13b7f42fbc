"""Shared test settings: Hypothesis profiles ("ci" derandomised, no deadline), and a suite that
writes only to temporary folders: every test runs in its own, never in the repository."""

import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir

# Hypothesis keeps its files (the constants it collects from the code) in .hypothesis/ of the
# folder the run starts in: the repository. They go to a temporary folder instead.
set_hypothesis_home_dir(tempfile.mkdtemp(prefix="mhpcheck-tests-hypothesis-"))

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=200,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)
settings.register_profile("dev", deadline=None, max_examples=100, database=None)
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


REPO = Path(__file__).resolve().parents[1]
# What the suite must never add to: the repository's folders a run of mhpcheck could write into
_WATCHED = (REPO, REPO / "traces", REPO / "examples", REPO / "tests")


def _listing() -> set[Path]:
    return {p for d in _WATCHED for p in d.iterdir()}


@pytest.fixture(scope="session", autouse=True)
def run_outside_the_repository(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Module- and session-scoped fixtures run mhpcheck too: from a temporary folder, with a
    temporary home for the cache's key, never from the repository or the user's home."""
    home = tmp_path_factory.mktemp("session")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(home)
        mp.setenv("XDG_CACHE_HOME", str(home / ".cache"))
        yield


@pytest.fixture(autouse=True)
def in_a_temporary_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test runs in its own temporary folder (mhpcheck's default mhpcheck-out/ lands there)
    and must leave nothing new in the repository."""
    before = _listing()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / ".cache"))
    yield
    new = sorted(str(p.relative_to(REPO)) for p in _listing() - before if p.name != "__pycache__")
    assert not new, f"the test wrote into the repository: {', '.join(new)}"
