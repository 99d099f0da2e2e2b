"""`JoinSet`: a set of tasks awaited in completion order (Tokio's ``JoinSet``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine
from types import TracebackType
from typing import Any, Generic, TypeVar, final

from ._park import record_wait
from ._task import JoinHandle, spawn

__all__ = ["AbortHandle", "JoinSet"]

T = TypeVar("T")


@final
class AbortHandle:
    """Aborts one task of a `JoinSet` without owning its result."""

    __slots__ = ("_handle",)

    def __init__(self, handle: JoinHandle[Any]) -> None:
        self._handle = handle

    @property
    def id(self) -> int:
        """The task's id (as `join_next_with_id` reports it)."""
        return self._handle.id

    def abort(self) -> None:
        """Abort the task (see `JoinHandle.abort`)."""
        self._handle.abort()

    def is_finished(self) -> bool:
        """True once the task has ended."""
        return self._handle.is_finished()

    def __repr__(self) -> str:
        return f"<AbortHandle id={self.id}>"


@final
class JoinSet(Generic[T]):
    """A collection of spawned tasks, joined in the order they finish.

    ::

        async with gokio.JoinSet[int]() as js:
            for url in urls:
                js.spawn(fetch(url))
            async for result in js:
                ...

    Leaving the ``async with`` block aborts whatever is still running and waits for it
    (Tokio's drop of a JoinSet). Without ``async with``, call `shutdown`.
    """

    __slots__ = ("_done", "_handles", "_signal")

    def __init__(self) -> None:
        self._handles: dict[asyncio.Future[Any], JoinHandle[T]] = {}
        self._done: deque[JoinHandle[T]] = deque()
        self._signal: asyncio.Event | None = None

    def _add(self, handle: JoinHandle[T]) -> AbortHandle:
        fut = handle._fut
        self._handles[fut] = handle
        fut.add_done_callback(self._on_done)
        return AbortHandle(handle)

    def _on_done(self, fut: asyncio.Future[Any]) -> None:
        handle = self._handles.pop(fut, None)
        if handle is None:  # detached
            return
        self._done.append(handle)
        if self._signal is not None:
            self._signal.set()

    def spawn(self, coro: Coroutine[Any, Any, T], *, name: str | None = None) -> AbortHandle:
        """Spawn ``coro`` into the set; returns an `AbortHandle` for it."""
        return self._add(spawn(coro, name=name))

    def spawn_blocking(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> AbortHandle:
        """Run ``fn`` on the blocking pool as a member of the set."""
        from ._blocking import spawn_blocking

        return self._add(spawn_blocking(fn, *args, **kwargs))

    def __len__(self) -> int:
        return len(self._handles) + len(self._done)

    def __bool__(self) -> bool:
        return bool(self._handles) or bool(self._done)

    async def _next_done(self) -> JoinHandle[T] | None:
        while not self._done:
            if not self._handles:
                return None
            if self._signal is None:
                self._signal = asyncio.Event()
            self._signal.clear()
            with record_wait("joinset", self):
                await self._signal.wait()
        return self._done.popleft()

    async def join_next(self) -> T | None:
        """Wait for the next task to finish and return its result.

        Returns ``None`` when the set is empty (test emptiness with ``len(js)``).

        Raises:
            Exception: the finished task's own exception, or `TaskAborted`.

        Cancel safety: cancelling it loses nothing: a finished task stays in the set
        until a `join_next` returns it.
        """
        handle = await self._next_done()
        if handle is None:
            return None
        return await handle

    async def join_next_with_id(self) -> tuple[int, T] | None:
        """As `join_next`, returning ``(task id, result)``."""
        handle = await self._next_done()
        if handle is None:
            return None
        return handle.id, await handle

    async def join_all(self) -> list[T]:
        """Wait for every task; results in completion order.

        On the first failure the rest are aborted (and awaited) and it is raised.
        """
        results: list[T] = []
        try:
            while (handle := await self._next_done()) is not None:
                results.append(await handle)
        except BaseException:
            await self.shutdown()
            raise
        return results

    def abort_all(self) -> None:
        """Abort every task in the set (they stay in it until joined)."""
        for handle in list(self._handles.values()):
            handle.abort()

    def detach_all(self) -> None:
        """Forget every task: they keep running, the set becomes empty."""
        for fut in list(self._handles):
            fut.remove_done_callback(self._on_done)
        self._handles.clear()
        self._done.clear()

    async def shutdown(self) -> None:
        """Abort every task and wait until all have ended; the set is empty after."""
        self.abort_all()
        while (handle := await self._next_done()) is not None:
            # shutdown discards results and failures (TaskAborted included)
            with contextlib.suppress(Exception):
                await handle

    def __aiter__(self) -> AsyncIterator[T]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[T]:
        while (handle := await self._next_done()) is not None:
            yield await handle

    async def __aenter__(self) -> JoinSet[T]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.shutdown()

    def __repr__(self) -> str:
        return f"<JoinSet running={len(self._handles)} finished={len(self._done)}>"
