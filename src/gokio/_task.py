"""Tasks: `spawn`, `JoinHandle`, `go`, `yield_now`, `join`, `try_join`.

A spawned task is kept alive by the runtime, so a fire-and-forget task is never
garbage-collected mid-run, unlike a bare ``asyncio.create_task`` whose result nobody
holds (asyncio keeps only weak references to tasks).

The strong references live in a per-thread list (only a loop's own thread creates tasks
on it) that is swept of finished tasks whenever it has doubled since the last sweep. That
costs an append per spawn and amortised O(1) sweeping, where a done-callback would cost
every task an extra trip through the loop's ready queue (see benchmarks/bench_tasks.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import logging
import threading
from collections.abc import Awaitable, Callable, Coroutine, Generator
from functools import partial
from types import CoroutineType
from typing import Any, Generic, TypeVar, final

from ._errors import TaskAborted
from ._park import Parker, WaitRecord, _by_key, rearm_cancel, record_wait, reset_budget

__all__ = ["JoinHandle", "go", "join", "spawn", "try_join", "yield_now"]

T = TypeVar("T")

logger = logging.getLogger("gokio")

_get_running_loop = asyncio._get_running_loop
_current_task = asyncio.current_task
_ids = itertools.count(1)
_new = object.__new__


class _Live:
    """One loop's strong references to the tasks spawned on it (see the module docstring)."""

    __slots__ = ("limit", "tasks")

    def __init__(self) -> None:
        self.tasks: list[asyncio.Future[Any]] = []
        self.limit = 1024


#: loop -> its live tasks. Only a loop's own thread spawns on it, so each list has one
#: writer; entries of closed loops are dropped when a new loop first spawns.
_LIVE: dict[asyncio.AbstractEventLoop, _Live] = {}


def _live_for(loop: asyncio.AbstractEventLoop) -> _Live:
    live = _LIVE.get(loop)
    if live is None:
        for old in list(_LIVE):
            if old.is_closed():
                _LIVE.pop(old, None)
        live = _LIVE[loop] = _Live()
    return live


def _keep_alive(fut: asyncio.Future[Any]) -> None:
    live = _live_for(fut.get_loop())
    tasks = live.tasks
    tasks.append(fut)
    if len(tasks) >= live.limit:
        _sweep(live)


def _sweep(live: _Live) -> None:
    tasks = live.tasks
    tasks[:] = [t for t in tasks if not t.done()]
    live.limit = max(1024, 2 * len(tasks))


def live_tasks(loop: asyncio.AbstractEventLoop | None = None) -> list[asyncio.Future[Any]]:
    """The spawned tasks (and blocking jobs) of ``loop`` (default: the running one) that
    are still running, for diagnostics and tests."""
    live = _LIVE.get(loop if loop is not None else asyncio.get_running_loop())
    return [] if live is None else [t for t in live.tasks if not t.done()]


def _log_failure(name: str, exc: BaseException) -> None:
    logger.error("gokio task %r failed and nobody awaited it", name, exc_info=exc)


def _log_if_failed(name: str, fut: asyncio.Future[Any]) -> None:
    """Done-callback of a task whose handle was dropped while it ran (it is detached)."""
    if not fut.cancelled() and (exc := fut.exception()) is not None:
        _log_failure(name, exc)


def _set_none(waiter: asyncio.Future[None], _: object) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _wake_parker(parker: Parker, lock: threading.Lock) -> Callable[[Any], None]:
    def wake(_: Any) -> None:
        with lock:
            parker.fire()

    return wake


@final
class JoinHandle(Generic[T]):
    """Owned permission to await a spawned task (Tokio's ``JoinHandle``).

    ``await handle`` returns the task's result or re-raises its exception with its
    original traceback; it raises `TaskAborted` if the task was aborted. Awaiting a
    handle from any loop or task is fine; dropping the handle detaches the task (it keeps
    running; if it then fails, the failure is logged once on the ``gokio`` logger).

    Cancel safety: cancelling ``await handle`` does not cancel the task: it is detached
    from that await and keeps running; the handle can be awaited again.
    """

    __slots__ = ("_fut", "_id", "_name", "_retrieved")

    def __init__(self, fut: asyncio.Future[T], name: str | None = None) -> None:
        self._fut = fut
        self._id: int | None = None
        self._name = name  # None for a task: its own name is used
        self._retrieved = False

    @property
    def id(self) -> int:
        """A process-unique id of the task (assigned on first use)."""
        i = self._id
        if i is None:
            i = self._id = next(_ids)
        return i

    @property
    def name(self) -> str:
        """The task's name."""
        return self._name if self._name is not None else self._fut.get_name()  # type: ignore[attr-defined]

    def abort(self) -> None:
        """Abort the task: it is cancelled at its next await (at once if it has not started).

        A task already finished is not affected. A `spawn_blocking` job can only be
        aborted before it starts running (a thread cannot be interrupted).
        """
        fut = self._fut
        if fut.done():
            return
        loop = fut.get_loop()
        if _get_running_loop() is loop:
            fut.cancel()
        else:
            with contextlib.suppress(RuntimeError):  # loop closed: the task cannot run anyway
                loop.call_soon_threadsafe(fut.cancel)

    def is_finished(self) -> bool:
        """True once the task has ended (returned, raised, or was aborted)."""
        return self._fut.done()

    def _outcome(self) -> T:
        fut = self._fut
        self._retrieved = True
        if fut.cancelled():
            raise TaskAborted(f"task {self.name!r} was aborted")
        exc = fut.exception()
        if exc is not None:
            raise exc
        return fut.result()

    def __await__(self) -> Generator[Any, None, T]:
        fut = self._fut
        if fut.done() and not fut.cancelled():
            # Finished: the future's own (C) iterator returns the result or raises the
            # task's exception with its traceback, with no generator of ours.
            self._retrieved = True
            return fut.__await__()
        return self._wait()

    def _wait(self) -> Generator[Any, None, T]:
        fut = self._fut
        if fut.done():
            return self._outcome()
        loop = _get_running_loop()
        if loop is fut.get_loop():
            # Same loop: wait on a fresh future so that cancelling this await does not
            # cancel the task itself (asyncio's default), only detaches from it.
            waiter = loop.create_future()
            fut.add_done_callback(partial(_set_none, waiter))
            owner = _current_task()
            _by_key[owner] = WaitRecord("join", self, owner)  # what we wait on, for diagnostics
            try:
                reset_budget()
                yield from waiter
            except BaseException:
                if not fut.done():
                    raise
                rearm_cancel()  # it finished as we were cancelled: report the outcome
            finally:
                _by_key.pop(owner, None)
            return self._outcome()
        # Another loop or thread: cross-thread wake through a Parker.
        lock = threading.Lock()
        p = Parker("join", self, shared=True)
        fut.get_loop().call_soon_threadsafe(fut.add_done_callback, _wake_parker(p, lock))
        try:
            yield from p.wait().__await__()
        except BaseException:
            with lock:
                if p.withdraw():
                    raise
            rearm_cancel()
        return self._outcome()

    def __del__(self) -> None:
        if self._retrieved:
            return
        fut = self._fut
        if not fut.done():
            # Dropped while running: the task is detached; log its failure when it ends.
            fut.add_done_callback(partial(_log_if_failed, self.name))
        else:
            _log_if_failed(self.name, fut)

    def __repr__(self) -> str:
        state = "finished" if self._fut.done() else "running"
        return f"<JoinHandle id={self.id} name={self.name!r} {state}>"


def _check_coro(coro: object, fn: str) -> None:
    if type(coro) is CoroutineType or asyncio.iscoroutine(coro):
        return
    hint = ""
    if inspect.iscoroutinefunction(coro):
        hint = f"; call it first: {fn}({getattr(coro, '__name__', 'fn')}())"
    elif callable(coro):
        hint = "; for a plain function use gokio.go(fn) or gokio.spawn_blocking(fn)"
    raise TypeError(f"{fn}() takes a coroutine object, got {type(coro).__name__}{hint}")


def spawn(coro: Coroutine[Any, Any, T], *, name: str | None = None) -> JoinHandle[T]:
    """Run ``coro`` as a new task (Tokio's ``spawn``) and return its `JoinHandle`.

    The runtime keeps the task alive until it ends, so fire-and-forget is safe. Called
    inside a running loop it spawns there; called from a `spawn_blocking` thread or any
    thread with a `gokio.Handle`, it spawns on that runtime.

    Raises:
        TypeError: ``coro`` is not a coroutine object (e.g. an un-called async function).
        RuntimeError: no event loop runs here and no gokio runtime is known.
    """
    if type(coro) is not CoroutineType:
        _check_coro(coro, "spawn")
    loop = _get_running_loop()
    if loop is None:
        from ._runtime import Handle

        try:
            handle = Handle.current()
        except RuntimeError:
            coro.close()
            raise
        return handle.spawn(coro, name=name)
    task = loop.create_task(coro) if name is None else loop.create_task(coro, name=name)
    # _keep_alive and JoinHandle.__init__, inlined: this is the hot path of every spawn.
    live = _LIVE.get(loop) or _live_for(loop)
    tasks = live.tasks
    tasks.append(task)
    if len(tasks) >= live.limit:
        _sweep(live)
    h: JoinHandle[T] = _new(JoinHandle)
    h._fut = task
    h._id = None
    h._name = None
    h._retrieved = False
    return h


def _track(fut: asyncio.Future[T], name: str) -> JoinHandle[T]:
    """Keep ``fut`` alive until done and give it a handle (used by spawn_blocking)."""
    _keep_alive(fut)
    return JoinHandle(fut, name)


def _is_async_callable(fn: object) -> bool:
    if inspect.iscoroutinefunction(fn):
        return True
    call = getattr(fn, "__call__", None)  # noqa: B004 - an object with an async __call__
    return call is not None and inspect.iscoroutinefunction(call)


def go(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> JoinHandle[Any]:
    """Go's ``go f(x)``: spawn ``fn(*args, **kwargs)``.

    An async function runs as a task (`spawn`); a plain function runs on the blocking
    thread pool (`spawn_blocking`).

    Raises:
        TypeError: ``fn`` is not callable (passing a coroutine object is a mistake too:
            use `spawn` for that).
    """
    obj: object = fn  # typed callers always pass a callable; untyped ones may not
    if not callable(obj):
        hint = ""
        if asyncio.iscoroutine(obj):
            hint = " (for a coroutine object use gokio.spawn(coro))"
            obj.close()
        raise TypeError(f"go() takes a function, got {type(obj).__name__}{hint}")
    if _is_async_callable(fn):
        return spawn(fn(*args, **kwargs), name=getattr(fn, "__name__", None))
    from ._blocking import spawn_blocking

    return spawn_blocking(fn, *args, **kwargs)


async def yield_now() -> None:
    """Yield to the event loop once, letting every other ready task run (Tokio's)."""
    reset_budget()
    await asyncio.sleep(0)


def _as_future(aw: Awaitable[T], loop: asyncio.AbstractEventLoop) -> tuple[asyncio.Future[T], bool]:
    """(future, owned): coroutines become tasks we own; futures and tasks stay the caller's."""
    if asyncio.isfuture(aw):
        return aw, False
    if asyncio.iscoroutine(aw):
        return loop.create_task(aw), True
    if not inspect.isawaitable(aw):
        raise TypeError(f"expected an awaitable, got {type(aw).__name__}")

    async def await_it() -> T:
        return await aw

    return loop.create_task(await_it()), True


def _futures(
    aws: tuple[Awaitable[Any], ...], fn: str
) -> tuple[list[asyncio.Future[Any]], list[bool]]:
    loop = asyncio.get_running_loop()
    objs: tuple[object, ...] = aws  # typed callers pass awaitables; untyped ones may not
    for i, aw in enumerate(objs):
        if not inspect.isawaitable(aw):
            for other in objs:
                if asyncio.iscoroutine(other):
                    other.close()
            raise TypeError(f"{fn}() argument {i} is not awaitable: {type(aw).__name__}")
    pairs = [_as_future(aw, loop) for aw in aws]
    return [f for f, _ in pairs], [o for _, o in pairs]


async def _cancel_and_wait(futs: list[asyncio.Future[Any]], owned: list[bool]) -> None:
    mine = [f for f, o in zip(futs, owned, strict=True) if o and not f.done()]
    for f in mine:
        f.cancel()
    if mine:
        await asyncio.wait(mine)


async def join(*aws: Awaitable[Any]) -> tuple[Any, ...]:
    """Run every awaitable concurrently and wait for all of them (Tokio's ``join!``).

    Returns:
        Their results, in argument order.

    Raises:
        ExceptionGroup: one or more raised; raised after *all* have finished, holding
            every exception in argument order.

    Cancel safety: cancelling ``join`` cancels the coroutines it runs and waits for them;
    tasks, futures and handles passed in are left running.
    """
    futs, owned = _futures(aws, "join")
    if not futs:
        return ()
    try:
        with record_wait("join", futs):
            await asyncio.wait(futs)
    except BaseException:
        await _cancel_and_wait(futs, owned)
        raise
    errors: list[BaseException] = []
    for f in futs:
        if f.cancelled():
            errors.append(asyncio.CancelledError("a joined awaitable was cancelled"))
        elif (e := f.exception()) is not None:
            errors.append(e)
    if errors:
        raise BaseExceptionGroup(f"{len(errors)} of {len(futs)} joined awaitables failed", errors)
    return tuple(f.result() for f in futs)


async def try_join(*aws: Awaitable[Any]) -> tuple[Any, ...]:
    """Run every awaitable concurrently; fail fast on the first exception (``try_join!``).

    On the first exception the other coroutines are cancelled and awaited, then that
    exception itself is raised.

    Returns:
        Their results, in argument order.

    Cancel safety: as `join`.
    """
    futs, owned = _futures(aws, "try_join")
    if not futs:
        return ()
    try:
        pending: set[asyncio.Future[Any]] = set(futs)
        while pending:
            with record_wait("join", futs):
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_EXCEPTION)
            for f in futs:  # the first failure in argument order among those just done
                if f in done and (f.cancelled() or f.exception() is not None):
                    await _cancel_and_wait(futs, owned)
                    f.result()  # raises its exception (CancelledError if it was cancelled)
    except BaseException:
        await _cancel_and_wait(futs, owned)
        raise
    return tuple(f.result() for f in futs)
