"""`WaitGroup`: Go's ``sync.WaitGroup``, for tasks on any loop and for plain threads.

A counter and the parties parked until it reaches zero, guarded by a ``threading.Lock``.
The counter reaching zero fires every parked waiter under the lock, so a waiter can
never miss the moment (it checks and parks under the same lock).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, final

from ._blocking import spawn_blocking
from ._op import NOT_READY, Op
from ._park import Parker
from ._task import JoinHandle, _is_async_callable, spawn

__all__ = ["WaitGroup", "WaitGroupWait"]


def _check_callable(fn: object) -> None:
    if callable(fn):
        return
    if asyncio.iscoroutine(fn):
        fn.close()
        raise TypeError(
            "WaitGroup.go() takes a function and its arguments: wg.go(job, x), not wg.go(job(x))"
        )
    raise TypeError(f"WaitGroup.go() takes a function, got {type(fn).__name__}")


@final
class WaitGroup:
    """Wait for a collection of jobs to finish (Go's ``sync.WaitGroup``).

    ``add(n)`` before starting jobs, ``done()`` as each ends, ``await wait()`` (or
    ``blocking_wait()`` on a plain thread) until the count is back to zero. ``go(fn,
    *args)`` does all three for one job. Thread-safe and loop-agnostic.
    """

    __slots__ = ("__weakref__", "_count", "_lock", "_waiters")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0
        self._waiters: dict[Parker, int] = {}

    def add(self, n: int = 1) -> None:
        """Add ``n`` (may be negative) to the counter; waiters wake when it reaches zero.

        Raises:
            TypeError: ``n`` is not an int.
            ValueError: the counter would go below zero (nothing is changed).
        """
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"WaitGroup.add() takes an int, got {type(n).__name__}")
        with self._lock:
            count = self._count + n
            if count < 0:
                raise ValueError(
                    f"WaitGroup counter would go below zero (it is {self._count}, "
                    f"add({n})): call done() once per job that add() counted"
                )
            self._count = count
            if count == 0 and self._waiters:
                for p, index in self._waiters.items():
                    p.fire(None, index)
                self._waiters.clear()

    def done(self) -> None:
        """Count one job as finished (``add(-1)``).

        Raises:
            ValueError: more ``done()`` calls than jobs added.
        """
        self.add(-1)

    def wait(self) -> WaitGroupWait:
        """Wait until the counter is zero (at once if it is).

        Lazy: usable as a `gokio.select` case.

        Cancel safety: cancelling the wait has no effect on the counter.
        """
        return WaitGroupWait(self)

    def blocking_wait(self) -> None:
        """``wait`` for plain threads: blocks the thread until the counter is zero.

        Raises:
            RuntimeError: called on a thread that runs an event loop.
        """
        WaitGroupWait(self).blocking("WaitGroup.blocking_wait", "await wg.wait()")

    def go(self, fn: Callable[..., Any], *args: Any) -> JoinHandle[Any]:
        """Run ``fn(*args)`` as ``gokio.go`` does, counted by this group.

        ``add(1)`` now, ``done()`` when ``fn`` returns or raises.

        Returns:
            The job's `JoinHandle` (its failure is logged if the handle is dropped).

        Raises:
            TypeError: ``fn`` is not callable.
        """
        _check_callable(fn)
        self.add(1)
        try:
            if _is_async_callable(fn):
                return spawn(self._run_async(fn, args), name=getattr(fn, "__name__", None))
            return spawn_blocking(self._run_sync, fn, args)
        except BaseException:
            self.done()
            raise

    async def _run_async(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        try:
            return await fn(*args)
        finally:
            self.done()

    def _run_sync(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        try:
            return fn(*args)
        finally:
            self.done()

    def __repr__(self) -> str:
        return f"<gokio.WaitGroup count={self._count} waiters={len(self._waiters)}>"


@final
class WaitGroupWait(Op[None]):
    """``wg.wait()``: completes (with None) once the counter is zero.

    Cancel safety: cancelling the wait has no effect on the counter.
    """

    __slots__ = ("_wg",)
    kind = "waitgroup"

    def __init__(self, wg: WaitGroup) -> None:
        self._wg = wg

    def _lock(self) -> threading.Lock:
        return self._wg._lock

    def _obj(self) -> object:
        return self._wg

    def _try(self) -> Any:
        return None if self._wg._count == 0 else NOT_READY

    def _park(self, parker: Parker, index: int) -> None:
        self._wg._waiters[parker] = index

    def _unpark(self, parker: Parker) -> None:
        self._wg._waiters.pop(parker, None)
