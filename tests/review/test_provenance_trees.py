"""Staleness: every recorded fingerprint still matches the Debian tree it was read from (downloads)."""

import pytest

from mhpcheck.review import kernel_source
from mhpcheck.review import provenance as pv

pytestmark = pytest.mark.kernel_trees


def recorded_series() -> list[str]:
    data, _ = pv.load()
    return sorted(
        {pv.debian_series(e.source) for r in data.values() for e in r.eras.values() if e.fingerprint}
    )


@pytest.mark.parametrize("series", recorded_series())
def test_every_recorded_fingerprint_matches_the_debian_tree_it_was_read_from(series: str) -> None:
    tree = kernel_source.debian_tree(series)
    era = pv.era_for_kernel(series)
    report = pv.check_tree(tree.root, tree.origin, tree.release, era, lambda s: None)
    stale = [
        f"{c.status}: {c.record.location}" for c in report.comparisons if c.status in (pv.CHANGED, pv.MISSING)
    ]
    assert stale == [], f"{tree.origin} ({tree.release}) no longer matches what {era} records"
    assert report.count(pv.SAME) > 50
