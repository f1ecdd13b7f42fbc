"""Errors a user sees: bad input (exit 2) and internal errors (exit 4)."""


class InputError(Exception):
    """Bad input: a wrong option, config, trace or patch file. Printed as one line; exit 2."""


class InternalError(Exception):
    """A defect in mhpcheck (the model raised, the engines disagree), not a verdict: exit 4."""


class Interrupted(KeyboardInterrupt):
    """A signal (SIGTERM; SIGINT arrives as a plain KeyboardInterrupt) stopped the run."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
