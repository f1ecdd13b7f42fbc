"""The mhpcheck command line: one module per command; each parses, makes one call, renders."""

from mhpcheck.cli import bisect, check, conform, diff, graph, listing, replay, simulate  # noqa: F401
from mhpcheck.cli.app import cli, run

__all__ = ["cli", "run"]
