"""How long a cell of the matrix is expected to take: the order in which work is handed out."""

from __future__ import annotations

# Seconds each cell took in `check --variant eras --jobs 2` at the default bounds on 2 cores
# (e1a549c), for scheduling alone: the longest cells start first, so that no core is left
# waiting on one at the end. Other bounds scale them alike; a cell not listed gets its arch's.
_CELL_SECONDS = {
    "arm64-4k": {"v5.15": 177, "v6.1": 178, "v6.12": 16, "v6.14": 37, "v6.17": 40, "v6.19": 41, "v7.2": 33},
    "arm64-16k": {"v5.9": 40},
    "x86_64": {"v4.3": 1, "v4.5": 12, "v4.13": 13, "v5.3": 19, "v5.9": 19, "v6.19": 44},
}
_ARCH_SECONDS = {
    "x86_64": 33,
    "arm64-4k": 33,
    "arm64-16k": 8,
    "arm64-64k": 5,
    "powerpc64-radix": 6,
    "powerpc64-hash": 2,
}


def expected_seconds(arch: str, variant: str) -> int:
    """How long a cell is expected to take, for ordering the work (never for a verdict)."""
    era = variant.partition("+")[0].partition("@")[0]
    return _CELL_SECONDS.get(arch, {}).get(era, _ARCH_SECONDS.get(arch, 10))
