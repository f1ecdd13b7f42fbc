"""The process pool the matrix, diff and bisect run their cells on, and that stops with mhpcheck.

Workers ignore SIGINT (a Ctrl-C reaches the whole process group: the parent alone decides) and
die with the parent (Linux PR_SET_PDEATHSIG), so that not even a SIGKILL of mhpcheck leaves one
running. When the caller is interrupted (SIGINT, SIGTERM) or fails, the workers are killed at
once rather than waited for, and none survives the call.
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_PR_SET_PDEATHSIG = 1


def _worker_start() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler: a worker just ends
    with contextlib.suppress(OSError, AttributeError):  # not Linux: killed by stop() all the same
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def stop(pool: ProcessPoolExecutor) -> None:
    """Cancel what has not started and kill every worker now; wait until they are gone."""
    # the executor keeps its worker processes only in this attribute; there is no public handle
    procs: list[Any] = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        p.terminate()
    for p in procs:
        p.join(2)
        if p.is_alive():
            p.kill()
            p.join(2)


def pool_map(fn: Callable[[T], R], items: Iterable[T], jobs: int, on_result: Callable[[R], None]) -> None:
    """`fn` over `items` in `jobs` worker processes, each result handed to `on_result` in the
    order of `items`; any exception (KeyboardInterrupt too) kills the workers and propagates."""
    pool = ProcessPoolExecutor(max_workers=jobs, initializer=_worker_start)
    try:
        for result in pool.map(fn, items):
            on_result(result)
    except BaseException:
        stop(pool)
        raise
    pool.shutdown(wait=True)
