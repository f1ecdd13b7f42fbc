"""The exit codes of every mhpcheck command."""

from enum import IntEnum


class ExitCode(IntEnum):
    """0 holds, 1 violated, 2 bad input, 3 inconclusive, 4 internal error."""

    HOLDS = 0  # every selected property holds within its bounds; every witness was reached
    VIOLATED = 1  # a property is violated, a witness not reached, or a recorded finding is stale
    BAD_INPUT = 2  # a wrong option, config, trace or patch file: one line on stderr
    INCONCLUSIVE = 3  # a budget was hit, or Z3 said unknown
    INTERNAL_ERROR = 4  # engines disagree, or mhpcheck crashed: the traceback is saved to a file
    INTERRUPTED = 130  # Ctrl-C: results already written are kept


HELP = (
    "Exit codes: 0 every property holds within its bounds; 1 a property is violated (or a "
    "witness not reached); 2 bad input; 3 inconclusive (a budget was hit); 4 internal error."
)
