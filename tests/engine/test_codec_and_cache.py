"""The cache's and the traces' encoding: real results come back exactly, and a cache entry is
data that mhpcheck wrote for that very key, or it is not used."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mhpcheck import cache, codec, trace
from mhpcheck.checker import run_cell
from mhpcheck.core.results import Report, Verdict
from mhpcheck.engines.cell import CellRequest
from mhpcheck.model.state import state_key
from mhpcheck.model.transitions import Bounds
from mhpcheck.report import json_report, text


@pytest.fixture(scope="module")
def judged() -> codec.Judged:
    # violations (minimised, with their steps) and recorded findings, with allocation failures
    return run_cell(CellRequest("x86_64", "v4.5-pre-altmap-hotplug", Bounds(depth=2)))


def round_trip(value: codec.Judged) -> codec.Judged:
    return codec.decode_judged(json.loads(json.dumps(codec.encode_judged(value))))


def test_states_and_events_round_trip_on_real_results(judged: codec.Judged) -> None:
    steps = [st for c in judged[0] for p in c.properties for st in p.steps]
    assert steps and any(st.events for st in steps)
    for st in steps:
        for s in (st.before, st.after):
            back = codec.decode_state(json.loads(json.dumps(codec.encode_state(s))))
            # by value: == on a state's Words is a C comparison (a Cond), not Python's
            assert state_key(back) == state_key(s)
        events = codec.decode_events(json.loads(json.dumps(codec.encode_events(st.events))))
        assert codec.encode_events(events) == codec.encode_events(st.events)
        assert [type(e) for e in events] == [type(e) for e in st.events]


def test_cached_results_render_exactly_as_fresh_ones(judged: codec.Judged) -> None:
    back = round_trip(judged)
    assert codec.encode_judged(back) == codec.encode_judged(judged)
    fresh, cached = Report(cells=list(judged[0])), Report(cells=list(back[0]))
    assert list(text.render(fresh, verbose=True)) == list(text.render(cached, verbose=True))
    assert json_report.render(fresh, {}) == json_report.render(cached, {})
    shown = 0
    for c1, c2 in zip(judged[0], back[0], strict=True):
        for p1, p2 in zip(c1.properties, c2.properties, strict=True):
            if p1.verdict in (Verdict.VIOLATED, Verdict.FINDING) and p1.steps:
                assert trace.build_trace(c1, p1) == trace.build_trace(c2, p2)
                shown += 1
    assert shown >= 2


@pytest.mark.parametrize(
    "bad",
    [
        {"format": "Word", "v": 1},
        {"sections": "__import__('os').system('true')"},
    ],
)
def test_decoding_builds_model_values_or_refuses(bad: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises((KeyError, TypeError, ValueError)):
        codec.decode_state(bad)


def test_the_key_is_the_users_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "c"))
    key = cache.secret()
    path = cache.secret_path()
    assert key is not None and path.stat().st_mode & 0o777 == 0o600
    assert cache.secret() == key  # made once
    path.chmod(0o644)  # readable by others: anyone could sign an entry
    assert cache.secret() is None
    store = cache.CellCache(tmp_path / "cache")
    store.put("k", ([], []))
    assert not (tmp_path / "cache").exists() and store.get("k") is None
