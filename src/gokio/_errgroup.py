"""`ErrGroup`: Go's ``errgroup.Group`` with a context and an optional concurrency limit.

State, guarded by the group's ``threading.Lock`` (jobs end on the loop or on pool
threads, so every update takes it):

* ``_active``: jobs started and not yet finished; with a limit, it is also the number of
  slots in use (never above the limit);
* ``_slotq``: callers of ``go`` parked for a slot, first come first served;
* ``_waitq``: callers of ``wait`` parked until ``_active`` drops to zero;
* ``_error``: the first error of this round; ``_ended``: ``wait`` has returned, so the
  next ``go`` starts a new round (a fresh ``ctx``, no error).

A finishing job hands its slot straight to the longest-waiting ``go`` (``fire``), so a
newcomer cannot overtake a parked caller and ``_active`` never dips below the limit
while callers wait. A ``go`` cancelled after it was handed a slot passes the slot on
(or frees it) instead of starting ``fn``: no slot is ever lost.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Any, final

from ._blocking import spawn_blocking
from ._context import CancelCauseFunc, Canceled, Context, background, with_cancel_cause
from ._errors import TaskAborted
from ._park import Parker, consume_budget, coop_yield
from ._task import _is_async_callable, _keep_alive, spawn

__all__ = ["ErrGroup"]

_get_running_loop = asyncio._get_running_loop


def _check_fn(fn: object, method: str) -> None:
    if callable(fn):
        return
    if asyncio.iscoroutine(fn):
        fn.close()
        raise TypeError(
            f"ErrGroup.{method}() takes a function and its arguments: "
            f"g.{method}(job, x), not g.{method}(job(x))"
        )
    raise TypeError(f"ErrGroup.{method}() takes a function, got {type(fn).__name__}")


@final
class ErrGroup:
    """A group of jobs that fails as a whole on its first error (Go's ``errgroup``).

    ``g.ctx`` is a child of ``ctx`` (or of ``context.background()``). It is cancelled
    when a job raises (its ``cause()`` is that exception) or when `wait` returns. Jobs
    are async functions (run as tasks) or plain functions (run on the blocking pool),
    like ``gokio.go``; they should watch ``g.ctx`` to stop early when a sibling failed.

    Args:
        ctx: the parent context; None means ``context.background()``.
        limit: at most this many jobs run at once (None: no limit).

    Raises:
        ValueError: ``limit`` is below 1.
        TypeError: ``limit`` is not an int, or ``ctx`` is not a context.
    """

    __slots__ = (
        "_active",
        "_cancel",
        "_ctx",
        "_ended",
        "_error",
        "_last",
        "_limit",
        "_lock",
        "_parent",
        "_slotq",
        "_waitq",
    )

    def __init__(self, ctx: Context | None = None, *, limit: int | None = None) -> None:
        if ctx is not None and not isinstance(ctx, Context):
            raise TypeError(
                f"ErrGroup(ctx) takes a gokio.context.Context or None, got {type(ctx).__name__}"
            )
        if limit is not None:
            if isinstance(limit, bool) or not isinstance(limit, int):
                raise TypeError(
                    f"ErrGroup limit must be an int or None, got {type(limit).__name__}"
                )
            if limit < 1:
                raise ValueError(
                    f"ErrGroup limit must be at least 1 (or None for no limit), got {limit}"
                )
        self._parent = ctx if ctx is not None else background()
        self._limit = limit
        self._lock = threading.Lock()
        self._active = 0
        self._slotq: deque[Parker] = deque()
        self._waitq: list[Parker] = []
        self._error: BaseException | None = None
        self._ended = False
        self._last: tuple[object, bool] = (None, False)
        self._ctx: Context
        self._cancel: CancelCauseFunc
        self._ctx, self._cancel = with_cancel_cause(self._parent)

    @property
    def ctx(self) -> Context:
        """The group's context: done on the first error, or once `wait` has returned."""
        return self._ctx

    def _new_round(self) -> None:
        """After ``wait`` returned, the next job starts a fresh round. Lock held."""
        self._ended = False
        self._error = None
        self._ctx, self._cancel = with_cancel_cause(self._parent)

    async def go(self, fn: Callable[..., Any], *args: Any) -> None:
        """Start ``fn(*args)`` in the group, first waiting for a free slot at the limit.

        Raises:
            TypeError: ``fn`` is not callable (e.g. a coroutine object was passed).

        Cancel safety: if cancelled while waiting for a slot, ``fn`` is not started and
        the slot (even one handed over at that moment) goes to the next caller.
        """
        _check_fn(fn, "go")
        if consume_budget():
            await coop_yield()
        limit = self._limit
        with self._lock:
            if self._ended:
                self._new_round()
            if limit is None or (self._active < limit and not self._slotq):
                self._active += 1
                p = None
            else:
                p = Parker("errgroup.slot", self)
                self._slotq.append(p)
        if p is not None:
            try:
                await p.wait()
            except BaseException:
                with self._lock:
                    if p.withdraw():
                        self._slotq.remove(p)
                        raise
                self._job_done()  # handed a slot as we were cancelled: pass it on
                raise
        self._start(fn, args)

    def try_go(self, fn: Callable[..., Any], *args: Any) -> bool:
        """Start ``fn(*args)`` if a slot is free now; False (nothing started) otherwise."""
        _check_fn(fn, "try_go")
        limit = self._limit
        with self._lock:
            if self._ended:
                self._new_round()
            if limit is not None and (self._active >= limit or self._slotq):
                return False
            self._active += 1
        self._start(fn, args)
        return True

    def _start(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        """Run the job; the slot (``_active``) is already taken for it."""
        try:
            # inspect's check is slow next to the rest of a job start, and a group mostly
            # runs one function: remember the last answer (one tuple: threads may race).
            last = self._last
            if last[0] is fn:
                is_async = last[1]
            else:
                is_async = _is_async_callable(fn)
                self._last = (fn, is_async)
            if not is_async:
                spawn_blocking(self._run_sync, fn, args)
                return
            name = getattr(fn, "__name__", None)
            if (loop := _get_running_loop()) is not None:
                # A task kept alive by the runtime, as spawn() does, minus the JoinHandle
                # that nobody would ever await: the job's outcome is reported by wait().
                _keep_alive(loop.create_task(self._run_async(fn, args), name=name))
            else:
                spawn(self._run_async(fn, args), name=name)
        except BaseException:
            self._job_done()
            raise

    async def _run_async(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        try:
            await fn(*args)
        except asyncio.CancelledError:
            name = getattr(fn, "__name__", repr(fn))
            self._fail(TaskAborted(f"ErrGroup job {name!r} was cancelled"))
            raise
        except Exception as e:
            self._fail(e)  # kept for wait(), not re-raised: the task must not log it
        except BaseException as e:  # KeyboardInterrupt, SystemExit: record and propagate
            self._fail(e)
            raise
        finally:
            self._job_done()

    def _run_sync(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        try:
            fn(*args)
        except Exception as e:
            self._fail(e)
        except BaseException as e:
            self._fail(e)
            raise
        finally:
            self._job_done()

    def _fail(self, exc: BaseException) -> None:
        with self._lock:
            if self._error is not None:
                return
            self._error = exc
            cancel = self._cancel
        cancel(exc)  # outside our lock: it runs the context's callbacks

    def _job_done(self) -> None:
        """A job ended (or a handed-over slot was given back): free or pass on its slot."""
        with self._lock:
            q = self._slotq
            while q:
                if q.popleft().fire():
                    return  # the slot moves to that caller: _active is unchanged
            self._active -= 1
            if self._active == 0 and self._waitq:
                for p in self._waitq:
                    p.fire()
                self._waitq.clear()

    async def _wait(self) -> BaseException | None:
        """Wait for every job; end the round. Returns the first error (or None)."""
        while True:
            with self._lock:
                if self._active == 0:
                    err = self._error
                    self._ended = True
                    cancel = self._cancel
                    break
                p = Parker("errgroup.wait", self)
                self._waitq.append(p)
            try:
                await p.wait()
            except BaseException:
                with self._lock:
                    if p.withdraw():
                        self._waitq.remove(p)
                    cancel = self._cancel
                # Nobody will wait for this round's outcome now: tell the jobs to stop.
                cancel(None)
                raise
        cancel(err)
        return err

    async def wait(self) -> None:
        """Wait until every job has finished, then cancel ``ctx``; raise the first error.

        The group can then be used again: the next job starts a new round with a fresh
        ``ctx``.

        Raises:
            Exception: the first exception a job raised (also ``g.ctx.cause()``). A job
                task that was cancelled counts as failed with `TaskAborted`.

        Cancel safety: cancelling ``wait`` cancels ``ctx`` (so cooperative jobs stop)
        and leaves the jobs running; a later ``wait`` still collects them.
        """
        err = await self._wait()
        if err is not None:
            raise err

    async def __aenter__(self) -> ErrGroup:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Wait for the jobs; a failing block cancels ``ctx`` first and its error wins."""
        if exc is not None:
            if isinstance(exc, asyncio.CancelledError):
                with self._lock:
                    cancel = self._cancel
                cancel(Canceled("the block of an ErrGroup was cancelled"))
            else:
                self._fail(exc)
        err = await self._wait()
        if exc is None and err is not None:
            raise err

    def __repr__(self) -> str:
        limit = "" if self._limit is None else f" limit={self._limit}"
        return f"<gokio.ErrGroup active={self._active}{limit}>"
