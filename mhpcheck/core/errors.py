"""Errors a user sees: bad input (exit 2) and internal errors (exit 4)."""

from pathlib import Path


class InputError(Exception):
    """Bad input: a wrong option, config, trace or patch file. Printed as one line; exit 2."""


class InternalError(Exception):
    """A defect in mhpcheck (the model raised, the engines disagree), not a verdict: exit 4."""


def read_input(path: str | Path) -> str:
    """The text of a file the user gave (a config, a trace); InputError naming it if unreadable."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read: {getattr(e, 'strerror', None) or e}") from None
