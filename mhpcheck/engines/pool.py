"""The process pool the matrix, diff and bisect run their cells on, and that stops with mhpcheck.

Workers ignore SIGINT (a Ctrl-C reaches the whole process group: the parent alone decides) and
die with the parent (Linux PR_SET_PDEATHSIG), so that not even a SIGKILL of mhpcheck leaves one
running. When the caller is interrupted (SIGINT, SIGTERM) or fails, the workers are killed at
once rather than waited for, and none survives the call.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing as mp
import signal
import time
from collections.abc import Callable, Hashable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor
from concurrent.futures import wait as wait_futures
from multiprocessing.connection import Connection, wait
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


def chain_map(
    fn: Callable[[T], R],
    chains: Sequence[Sequence[T]],
    jobs: int,
    on_result: Callable[[R], None],
    derive: Callable[[T], R | None],
    weight: Callable[[T], float],
) -> None:
    """`fn` over every item of `chains`, each result handed to `on_result` as it comes. The items
    of a chain run one after the other, each first offered to `derive`, which may give its result
    from the results handed over before it, and then it does not run; chains run side by side in
    `jobs` worker processes (in this one for jobs=1), the one with the most `weight` left first.
    Any exception (KeyboardInterrupt too) kills the workers and propagates."""
    left = [list(c) for c in chains if c]

    def next_item(busy: set[int]) -> tuple[int, T] | None:
        """The head of the heaviest chain not running, after handing over what derive() gives."""
        while True:
            free = [i for i, c in enumerate(left) if c and i not in busy]
            if not free:
                return None
            i = max(free, key=lambda i: (sum(map(weight, left[i])), -i))
            item = left[i].pop(0)
            got = derive(item)
            if got is None:
                return i, item
            on_result(got)

    if jobs <= 1:
        while (head := next_item(set())) is not None:
            on_result(fn(head[1]))
        return
    pool = ProcessPoolExecutor(max_workers=jobs, initializer=_worker_start)
    running: dict[Future[R], int] = {}
    try:
        while True:
            while len(running) < jobs and (head := next_item(set(running.values()))) is not None:
                running[pool.submit(fn, head[1])] = head[0]
            if not running:
                break
            finished, _ = wait_futures(running, return_when=FIRST_COMPLETED)
            for f in sorted(finished, key=lambda f: running[f]):
                del running[f]
                on_result(f.result())
    except BaseException:
        stop(pool)
        raise
    pool.shutdown(wait=True)


class ProcessEnded(Exception):
    """The process running one item ended without handing back a result (os._exit, a signal)."""

    def __init__(self, item: object, exitcode: int | None) -> None:
        super().__init__(item, exitcode)
        self.item, self.exitcode = item, exitcode


def _run_one(fn: Callable[[T], R], item: T, conn: Connection) -> None:
    _worker_start()
    try:
        out: tuple[str, Any] = ("ok", fn(item))
    except BaseException as e:  # handed to the parent, which decides; nothing escapes here
        out = ("raise", e)
    try:
        conn.send(out)
    except Exception as e:  # an unpicklable exception or result
        conn.send(("raise", RuntimeError(f"{type(out[1]).__name__}: {out[1]} (not picklable: {e})")))
    conn.close()


def deadline_for(time_budget: float | None) -> float | None:
    """How long one item run apart may take before its process is killed: the engines stop at
    the budget on their own unless the code they run never returns, and minimising and
    replaying a counterexample after it takes about as long again."""
    return None if time_budget is None else 2 * time_budget + 10


def isolated_map(
    fn: Callable[[T], R],
    items: Iterable[T],
    jobs: int,
    on_result: Callable[[R], None],
    deadline: float | None = None,
    on_overrun: Callable[[T], R] | None = None,
    chain: Callable[[T], Hashable] | None = None,
    derive: Callable[[T], R | None] | None = None,
) -> None:
    """`fn` over `items`, each in a process of its own (`jobs` at a time), each result handed to
    `on_result` as it comes. For code that may end its process or never return (a user's patch
    file): an item whose process ends without a result raises ProcessEnded; one still running
    `deadline` seconds after it started is killed and `on_overrun(item)` stands for its result.
    Items of one `chain` (the same key) start one after the other, in the order given, each first
    offered to `derive`, which may give its result from those handed over before it, and then it
    does not run. An exception in `fn` is raised here; any exception kills every process."""
    ctx = mp.get_context("fork")  # the patch file and the model are already imported here
    todo = list(items)
    running: dict[Connection, tuple[T, Hashable, Any, float]] = {}
    busy: set[Hashable] = set()  # chains with an item running
    keys = [chain(item) if chain is not None else object() for item in todo]  # no chain: its own

    def next_item() -> tuple[T, Hashable] | None:
        """The first item whose chain has none before it, after handing over what derive() gives."""
        while True:
            seen: set[Hashable] = set()
            for at, (item, c) in enumerate(zip(todo, keys, strict=True)):
                if c in busy or c in seen:
                    seen.add(c)
                    continue
                del todo[at], keys[at]
                got = derive(item) if derive is not None else None
                if got is None:
                    busy.add(c)
                    return item, c
                on_result(got)
                break
            else:
                return None

    try:
        while todo or running:
            while len(running) < max(1, jobs) and (head := next_item()) is not None:
                item, c = head
                parent, child = ctx.Pipe(duplex=False)
                proc = ctx.Process(target=_run_one, args=(fn, item, child), daemon=True)
                proc.start()
                child.close()
                running[parent] = (item, c, proc, time.monotonic())
            if not running:
                break
            timeout = None
            if deadline is not None:
                first = min(started for *_, started in running.values())
                timeout = max(0.0, first + deadline - time.monotonic())
            ready = wait(list(running), timeout)
            for conn in [c for c in list(running) if c in ready]:
                item, c, proc, _ = running.pop(conn)
                try:
                    msg: tuple[str, Any] = conn.recv()
                except EOFError:
                    proc.join()
                    raise ProcessEnded(item, proc.exitcode) from None
                proc.join()
                if msg[0] == "raise":
                    raise msg[1]
                busy.discard(c)
                on_result(msg[1])
            now = time.monotonic()
            for conn, (item, c, proc, started) in list(running.items()):
                if deadline is not None and now - started >= deadline:
                    del running[conn]
                    proc.kill()
                    proc.join()
                    assert on_overrun is not None
                    busy.discard(c)
                    on_result(on_overrun(item))
    finally:
        for _, _, proc, _ in running.values():
            proc.kill()
        for _, _, proc, _ in running.values():
            proc.join()
