"""The second core for work that holds the GIL: a forked child process shares the parent's arrays.

scipy's Dijkstra and pyosmium's object loop keep the GIL, so threads do not help them. A child
forked from this process sees every array already built (copy-on-write, nothing pickled on the
way in) and sends back only its results. Forking is safe only from a single-threaded, non-daemon
process on Linux (:func:`fork_ok`); otherwise the work runs here, with the same results.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

_T = TypeVar("_T")
_R = TypeVar("_R")

#: (function, items) the forked child reads (inherited, never pickled)
_STATE: tuple[Callable[[Any], Any], Sequence[Any]] | None = None


def fork_ok() -> bool:
    """Whether a child may be forked now: Linux, two or more cores, one thread, not a daemon.

    Returns
    -------
    bool
    """
    return (
        sys.platform.startswith("linux")
        and (os.cpu_count() or 1) > 1
        and not multiprocessing.current_process().daemon
        and threading.active_count() == 1
    )


def die_with_parent(parent_pid: int) -> None:
    """In a forked child: be killed when the parent dies, so no orphan outlives a killed run.

    Linux ``prctl(PR_SET_PDEATHSIG, SIGKILL)``; a parent killed before this ran is caught by the
    parent-pid test. Without it an orphaned pool worker blocks on its task pipe forever, holding
    the run's stdout open (a caller waiting on that pipe then hangs too).

    Parameters
    ----------
    parent_pid
        Pid of the parent process.
    """
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not glibc / not Linux
        pass
    if os.getppid() != parent_pid:
        os._exit(1)


#: the event a forked child sets once it has its task (inherited at the fork, never pickled)
_STARTED: list[Any] = []


def _started_then(fn: Callable[..., _R], *args: Any) -> _R:
    if _STARTED:
        _STARTED[0].set()
    return fn(*args)


def start_child(fn: Callable[..., _R], *args: Any) -> tuple[ProcessPoolExecutor, Future[_R]]:
    """``fn(*args)`` in a forked child (a one-worker pool), returning once the child has begun.

    The child dies with this process (:func:`die_with_parent`). The pool's feeder thread needs
    the GIL to send the task; a caller that went straight into work holding the GIL (a pyosmium
    pass, a scipy search) left the child idle until that call returned — the column read of a
    city began ~1 s late — so this waits, GIL released, until the child has the task.

    Parameters
    ----------
    fn
        A module-level function.
    *args
        Its arguments (pickled).

    Returns
    -------
    pool : ProcessPoolExecutor
        Shut it down when done.
    future : concurrent.futures.Future
    """
    ctx = multiprocessing.get_context("fork")
    pool = ProcessPoolExecutor(
        max_workers=1, mp_context=ctx, initializer=die_with_parent, initargs=(os.getpid(),)
    )
    started = ctx.Event()
    _STARTED[:] = [started]
    try:
        fut = pool.submit(_started_then, fn, *args)  # the worker forks here
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        _STARTED.clear()
    # waiting releases the GIL; a child that died never sets it, its future says why
    while not started.wait(0.05) and not fut.done():
        pass
    return pool, fut


def _run(indices: list[int]) -> list[Any]:
    assert _STATE is not None
    fn, items = _STATE
    return [fn(items[i]) for i in indices]


def split_map(
    fn: Callable[[_T], _R], items: Sequence[_T], *, costs: Sequence[float] | None = None
) -> list[_R]:
    """``[fn(x) for x in items]`` with part of the items run in a forked child process.

    Items are shared out by ``costs`` (largest first, each to the side with less work so far);
    the child gets its share at once and this process works through the rest meanwhile. Results
    come back in item order and are those of ``fn`` run here (the child is a copy of this
    process). Without :func:`fork_ok`, or with fewer than two items, everything runs here.

    Parameters
    ----------
    fn
        The function (a forked child runs it on a copy of this process).
    items
        Its arguments.
    costs
        Relative cost of each item (default: equal).

    Returns
    -------
    list
        ``fn(x)`` for each item, in item order.
    """
    n = len(items)
    if n < 2 or not fork_ok():
        return [fn(x) for x in items]
    cost = [1.0] * n if costs is None else [float(c) for c in costs]
    load = [0.0, 0.0]
    share: list[list[int]] = [[], []]
    for i in sorted(range(n), key=lambda k: -cost[k]):
        side = 0 if load[0] <= load[1] else 1
        share[side].append(i)
        load[side] += cost[i]
    mine, theirs = share
    if not theirs:
        return [fn(x) for x in items]
    global _STATE
    _STATE = (fn, items)
    out: list[Any] = [None] * n
    try:
        pool, fut = start_child(_run, theirs)
        with pool:
            for i in mine:
                out[i] = fn(items[i])
            for i, r in zip(theirs, fut.result(), strict=True):
                out[i] = r
    finally:
        _STATE = None
    return out
