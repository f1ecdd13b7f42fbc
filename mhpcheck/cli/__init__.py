"""The mhpcheck command line: one module per command; each parses, makes one call, renders."""

from mhpcheck.cli import (  # noqa: F401
    bisect,
    check,
    conform,
    diff,
    graph,
    listing,
    provenance,
    replay,
    review,
    simulate,
)
from mhpcheck.cli.app import cli, run

__all__ = ["cli", "run"]
