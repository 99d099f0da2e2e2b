"""The blocking thread pool: `spawn_blocking` and the thread-local runtime of pool threads.

Each gokio runtime (``gokio.run``, ``gokio.Runtime``) owns a pool bounded by its
``max_blocking_threads``; a loop gokio did not start shares one process-wide pool of the
default size. Calls beyond the bound queue (first in, first out). A pool thread remembers
the loop that submitted its job, so `gokio.block_on`, `gokio.spawn` and
`gokio.Handle.current()` work from inside it.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final, TypeVar

from ._task import JoinHandle, _track

__all__ = ["DEFAULT_MAX_BLOCKING_THREADS", "spawn_blocking"]

T = TypeVar("T")

DEFAULT_MAX_BLOCKING_THREADS: Final = 64

#: loop -> the pool of the gokio runtime that runs it
_POOLS: dict[asyncio.AbstractEventLoop, ThreadPoolExecutor] = {}
_default_pool: ThreadPoolExecutor | None = None
_default_lock = threading.Lock()


class _PoolThreadState(threading.local):
    loop: asyncio.AbstractEventLoop | None = None


pool_thread = _PoolThreadState()


def new_pool(max_threads: int) -> ThreadPoolExecutor:
    if isinstance(max_threads, bool) or not isinstance(max_threads, int):
        raise TypeError(f"max_blocking_threads must be an int, got {type(max_threads).__name__}")
    if max_threads < 1:
        raise ValueError(f"max_blocking_threads must be at least 1, got {max_threads}")
    return ThreadPoolExecutor(max_workers=max_threads, thread_name_prefix="gokio-blocking")


def pool_for(loop: asyncio.AbstractEventLoop) -> ThreadPoolExecutor:
    pool = _POOLS.get(loop)
    if pool is not None:
        return pool
    global _default_pool
    with _default_lock:
        if _default_pool is None:
            _default_pool = new_pool(DEFAULT_MAX_BLOCKING_THREADS)
        return _default_pool


def _run_job(
    loop: asyncio.AbstractEventLoop,
    ctx: contextvars.Context,
    fn: Callable[..., T],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    handle_fut: list[asyncio.Future[T]],
) -> T:
    if handle_fut and handle_fut[0].cancelled():
        # Aborted before it started. abort() cancels the handle's future at once, but
        # asyncio forwards that to our concurrent future only on the loop's next turn: a
        # job that reached a free thread before then must still not run.
        raise asyncio.CancelledError
    pool_thread.loop = loop
    try:
        return ctx.run(fn, *args, **kwargs)
    finally:
        pool_thread.loop = None


def spawn_blocking(fn: Callable[..., T], *args: Any, **kwargs: Any) -> JoinHandle[T]:
    """Run ``fn(*args, **kwargs)`` on the blocking thread pool (Tokio's ``spawn_blocking``).

    Use it for blocking I/O and CPU work that would otherwise freeze the event loop. The
    pool is bounded (``max_blocking_threads``); calls beyond the bound wait their turn.
    The job sees the caller's context variables.

    Returns:
        A `JoinHandle` to await the result. ``abort()`` only prevents a job that has not
        started yet; a running thread cannot be interrupted.

    Raises:
        TypeError: ``fn`` is not callable.
        RuntimeError: called with no running event loop and no gokio runtime.
    """
    if not callable(fn):
        raise TypeError(f"spawn_blocking() takes a function, got {type(fn).__name__}")
    loop = asyncio._get_running_loop()
    if loop is None:
        from ._runtime import Handle

        return Handle.current().spawn_blocking(fn, *args, **kwargs)
    cell: list[asyncio.Future[T]] = []  # the handle's future, filled before anyone can abort
    ctx = contextvars.copy_context()
    cfut = pool_for(loop).submit(_run_job, loop, ctx, fn, args, kwargs, cell)
    fut: asyncio.Future[T] = asyncio.wrap_future(cfut, loop=loop)
    cell.append(fut)
    return _track(fut, getattr(fn, "__name__", "blocking"))
