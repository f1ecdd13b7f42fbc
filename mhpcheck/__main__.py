"""`python -m mhpcheck`: the same entry point as the mhpcheck command."""

from mhpcheck.cli import run

run()
