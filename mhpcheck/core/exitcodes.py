"""The exit codes of every mhpcheck command."""

from enum import IntEnum


class ExitCode(IntEnum):
    """0 holds, 1 violated, 2 bad input, 3 inconclusive, 4 internal error, 130/143 interrupted."""

    HOLDS = 0  # every selected property holds within its bounds; every witness was reached
    VIOLATED = 1  # a property is violated, a witness not reached, or a recorded finding is stale
    BAD_INPUT = 2  # a wrong option, config, trace or patch file: one line on stderr
    INCONCLUSIVE = 3  # a budget was hit, or Z3 said unknown
    INTERNAL_ERROR = 4  # engines disagree, or mhpcheck crashed: the traceback is saved to a file
    INTERRUPTED = 130  # SIGINT (Ctrl-C), 128 + 2: the cells that finished are reported
    TERMINATED = 143  # SIGTERM, 128 + 15: the same


def interrupted_by(signum: int) -> ExitCode:
    """The exit code of a run a signal stopped: 128 + its number, as a shell reports it."""
    return ExitCode.TERMINATED if signum == 15 else ExitCode.INTERRUPTED


HELP = (
    "Exit codes: 0 every property holds within its bounds; 1 a property is violated (or a "
    "witness not reached); 2 bad input; 3 inconclusive (a budget was hit); 4 internal error; "
    "130 interrupted (SIGINT, Ctrl-C) and 143 stopped (SIGTERM): the cells that finished are "
    "reported, verdict 'interrupted'."
)
