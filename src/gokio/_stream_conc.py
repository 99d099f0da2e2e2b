"""The concurrent stages behind `gokio.Stream`: buffered work, merging, chunks with a timeout.

Two machines, each owning the tasks it starts and cancelling *and awaiting* them when its
stage ends, however it ends (exhausted, early exit, an exception, cancellation):

* `_Pool` (``buffered``, ``buffer_unordered``, ``for_each_concurrent``): up to ``n``
  worker tasks. A worker takes a turn pulling the next item from upstream (one puller
  at a time: an async iterator cannot be stepped concurrently), then awaits that item
  (or ``fn(item)``) itself and hands the outcome to the consumer. Running the awaitable
  inside a long-lived worker instead of a task per item saves a task creation per item,
  and pulling inside a worker (not in the consumer) means a slow upstream never holds
  back results that are already done.

  The bounds: there are at most ``n`` workers, each running one item, so at most ``n``
  items are in flight. ``held`` counts items pulled from upstream and not yet handed
  downstream (running *or* finished and waiting for the consumer); a worker pulls only
  while ``held < 2 * n``, so a slow consumer makes the stage stop pulling. The slack of
  ``n`` finished results is deliberate: with ``held < n`` a worker that finishes while the
  consumer has not yet run must park and be woken again, a future and a loop hop per item
  (measured: about a third slower on the stream benchmark).

* `_Feeders` (``merge``, ``chunks_timeout``): one task per source steps it and parks the
  item in a shared queue, then waits at a gate that the consumer opens when it asks for
  its next item. Stepping a source in its own task lets the consumer stop waiting (a
  deadline passed, another source was ready) without cancelling the source mid-step,
  which would end an async generator for good.
"""

from __future__ import annotations

import asyncio
import inspect
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from types import CoroutineType
from typing import Any, Final, TypeVar, final

from ._stream_ops import aclose

__all__ = ["cancel_and_wait", "chunks_timeout", "merge", "run_pool"]

T = TypeVar("T")

_isawaitable = inspect.isawaitable
_CANCELLED = asyncio.CancelledError


def _wake(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


async def cancel_and_wait(tasks: Sequence[asyncio.Future[Any]]) -> None:
    """Cancel every task not done yet and wait until all have ended.

    A cancellation of the caller during the wait does not cut it short (the tasks must
    not outlive their stage: that is what "Task was destroyed but it is pending" means);
    it is re-raised once they have ended.
    """
    pending = [t for t in tasks if not t.done()]
    for t in pending:
        t.cancel()
    interrupted: BaseException | None = None
    while pending:
        try:
            await asyncio.wait(pending)
        except _CANCELLED as e:
            interrupted = e
        pending = [t for t in pending if not t.done()]
    for t in tasks:
        if not t.cancelled():
            t.exception()  # mark it retrieved: its outcome was delivered or is irrelevant
    if interrupted is not None:
        raise interrupted


# --- buffered / buffer_unordered / for_each_concurrent --------------------------------------


@final
class _Pool:
    """Shared state of one concurrent stage (see the module docstring)."""

    __slots__ = (
        "cap",
        "consumer",
        "emitted",
        "error",
        "finished",
        "fn",
        "held",
        "idle",
        "loop",
        "n",
        "name",
        "ordered",
        "pulled",
        "pulling",
        "ready",
        "src",
        "waking",
        "workers",
    )

    def __init__(
        self,
        src: AsyncIterator[Any],
        n: int,
        fn: Callable[[Any], Any] | None,
        ordered: bool,
        name: str,
    ) -> None:
        self.src = src
        self.n = n
        self.fn = fn
        self.ordered = ordered
        self.name = name
        self.loop = asyncio.get_running_loop()
        self.workers: list[asyncio.Task[None]] = []
        self.idle: deque[asyncio.Future[None]] = deque()  # workers parked for a turn
        self.pulling = False  # a worker is stepping the upstream
        self.waking = 0  # workers woken (or started) to pull that have not run yet
        self.held = 0  # pulled and not yet handed downstream: below `cap`
        self.cap = 2 * n
        self.pulled = 0  # sequence number of the next item pulled
        self.emitted = 0  # sequence number of the next item handed on (ordered)
        self.ready: Any = {} if ordered else deque()  # outcomes: (ok, value)
        self.consumer: asyncio.Future[None] | None = None
        self.finished = False  # upstream ended or failed, or the stage is closing
        self.error: BaseException | None = None  # what upstream raised

    def next_turn(self) -> None:
        """Wake (or start) as many workers as there are free slots to pull into.

        They pull one after the other: each finds the upstream free as soon as the one
        before it has its item (at once, when upstream steps never suspend). Waking only
        one, which then woke the next, would start one item per loop iteration.
        """
        if self.pulling or self.finished:
            return
        want = self.cap - self.held - self.waking
        idle = self.idle
        while want > 0:
            if idle:
                f = idle.popleft()
                if f.done():
                    continue
                f.set_result(None)
            elif len(self.workers) < self.n:
                self.workers.append(self.loop.create_task(self._work(), name=self.name))
            else:
                return
            self.waking += 1
            want -= 1

    def _deliver(self, seq: int, ok: bool, value: Any) -> None:
        if self.ordered:
            self.ready[seq] = (ok, value)
            if seq != self.emitted:
                return  # the consumer waits for an earlier item
        else:
            self.ready.append((ok, value))
        c = self.consumer
        if c is not None and not c.done():
            c.set_result(None)

    def _end(self, error: BaseException | None) -> None:
        self.finished = True
        self.error = error
        c = self.consumer
        if c is not None and not c.done():
            c.set_result(None)
        for f in self.idle:  # let parked workers see `finished` and exit
            if not f.done():
                f.set_result(None)
                self.waking += 1
        self.idle.clear()

    async def _work(self) -> None:
        src = self.src
        fn = self.fn
        loop = self.loop
        me = asyncio.current_task()
        assert me is not None
        self.waking -= 1
        while True:
            if self.finished:
                return
            if self.pulling or self.held >= self.cap:
                fut = loop.create_future()
                self.idle.append(fut)
                await fut
                self.waking -= 1
                continue
            self.pulling = True
            try:
                item = await src.__anext__()
            except StopAsyncIteration:
                self._end(None)
                return
            except Exception as e:
                self._end(e)
                return
            finally:
                self.pulling = False
            seq = self.pulled
            self.pulled = seq + 1
            self.held += 1
            if self.idle or len(self.workers) < self.n:  # else no worker is free to wake
                self.next_turn()  # another worker may pull while this one awaits its item
            try:
                if fn is None:
                    if type(item) is not CoroutineType and not _isawaitable(item):
                        raise TypeError(
                            f"{self.name}: items must be awaitables (coroutines, tasks, "
                            f"futures), got {type(item).__name__}; build them with "
                            ".map(lambda x: work(x)), a plain function returning a coroutine"
                        )
                    r = await item
                else:
                    r = fn(item)
                    if _isawaitable(r):
                        r = await r
            except _CANCELLED as e:
                if me.cancelling():
                    raise  # the stage is closing
                self._deliver(seq, False, e)  # the item itself was cancelled by someone
            except Exception as e:
                self._deliver(seq, False, e)
            else:
                self._deliver(seq, True, r)

    async def _wait(self) -> None:
        fut = self.loop.create_future()
        self.consumer = fut
        try:
            await fut
        finally:
            self.consumer = None

    def take(self) -> tuple[bool, Any] | None:
        """The next outcome to hand on, or None if it is not there yet."""
        if self.ordered:
            entry: tuple[bool, Any] | None = self.ready.pop(self.emitted, None)
            if entry is not None:
                self.emitted += 1
        else:
            ready = self.ready
            entry = ready.popleft() if ready else None
        if entry is not None:
            self.held -= 1
            if self.idle or len(self.workers) < self.n:
                self.next_turn()
        return entry

    async def close(self) -> None:
        self.finished = True
        try:
            await cancel_and_wait(self.workers)
        finally:
            await aclose(self.src)  # no worker steps it any more


async def run_pool(
    src: AsyncIterator[Any], n: int, fn: Callable[[Any], Any] | None, ordered: bool, name: str
) -> AsyncIterator[Any]:
    """The consumer side of a `_Pool`: outcomes in completion (or input) order."""
    pool = _Pool(src, n, fn, ordered, name)
    try:
        pool.next_turn()
        while True:
            entry = pool.take()
            if entry is None:
                if pool.finished and pool.held == 0:
                    if pool.error is not None:
                        raise pool.error
                    return
                await pool._wait()
                continue
            if not entry[0]:
                raise entry[1]
            yield entry[1]
    finally:
        await pool.close()


# --- merge / chunks_timeout ----------------------------------------------------------------

_END: Final[Any] = object()  # a source ran out
DONE: Final[Any] = object()  # every source ran out
TIMEOUT: Final[Any] = object()  # the deadline passed first


@final
class _Feeders:
    """One feeder task per source; the consumer takes items in arrival order."""

    __slots__ = ("consumer", "gates", "live", "loop", "owed", "ready", "srcs", "tasks")

    def __init__(self, srcs: list[AsyncIterator[Any]]) -> None:
        self.srcs = srcs
        self.loop = asyncio.get_running_loop()
        self.ready: deque[tuple[int, bool, Any]] = deque()  # (source, ok, value)
        self.gates: list[asyncio.Future[None] | None] = [None] * len(srcs)
        self.owed: list[int] = []  # sources whose item was taken: step them on the next get
        self.live = len(srcs)
        self.consumer: asyncio.Future[None] | None = None
        self.tasks = [
            self.loop.create_task(self._feed(i, s), name="gokio.stream feeder")
            for i, s in enumerate(srcs)
        ]

    def _put(self, i: int, ok: bool, value: Any) -> None:
        self.ready.append((i, ok, value))
        c = self.consumer
        if c is not None and not c.done():
            c.set_result(None)

    async def _feed(self, i: int, src: AsyncIterator[Any]) -> None:
        loop = self.loop
        while True:
            try:
                item = await src.__anext__()
            except StopAsyncIteration:
                self._put(i, True, _END)
                return
            except Exception as e:
                self._put(i, False, e)
                return
            gate = loop.create_future()
            self.gates[i] = gate
            self._put(i, True, item)
            await gate  # until the consumer wants more: a merge never reads ahead

    async def get(self, deadline: float | None) -> Any:
        """The next ``(ok, value)``, or `DONE`, or `TIMEOUT` once ``deadline`` passed.

        Cancel safety: a cancelled ``get`` loses nothing: items stay queued.
        """
        gates = self.gates
        for i in self.owed:
            g = gates[i]
            gates[i] = None
            if g is not None:
                _wake(g)
        self.owed.clear()
        ready = self.ready
        loop = self.loop
        while True:
            while ready:
                i, ok, v = ready.popleft()
                if v is _END:
                    self.live -= 1
                    continue
                if ok:
                    self.owed.append(i)
                return ok, v
            if self.live == 0:
                return DONE
            if deadline is not None and loop.time() >= deadline:
                return TIMEOUT
            fut = loop.create_future()
            self.consumer = fut
            timer = None if deadline is None else loop.call_at(deadline, _wake, fut)
            try:
                await fut
            finally:
                self.consumer = None
                if timer is not None:
                    timer.cancel()

    async def close(self) -> None:
        try:
            await cancel_and_wait(self.tasks)
        finally:
            # Every feeder has ended, so no source is being stepped: close them all here
            # (a feeder cancelled before it first ran never reached its own code).
            errors: list[BaseException] = []
            for s in self.srcs:
                try:
                    await aclose(s)
                except BaseException as e:
                    errors.append(e)
            if errors:
                raise errors[0]


async def merge(srcs: list[AsyncIterator[T]]) -> AsyncIterator[T]:
    feeders = _Feeders(srcs)
    try:
        while True:
            r = await feeders.get(None)
            if r is DONE:
                return
            if not r[0]:
                raise r[1]
            yield r[1]
    finally:
        await feeders.close()


async def chunks_timeout(src: AsyncIterator[T], n: int, seconds: float) -> AsyncIterator[list[T]]:
    feeders = _Feeders([src])
    loop = feeders.loop
    try:
        while True:
            r = await feeders.get(None)
            if r is DONE:
                return
            if not r[0]:
                raise r[1]
            buf = [r[1]]
            deadline = loop.time() + seconds  # counted from the chunk's first item
            error: BaseException | None = None
            ended = False
            while len(buf) < n:
                r = await feeders.get(deadline)
                if r is TIMEOUT:
                    break
                if r is DONE:
                    ended = True
                    break
                if not r[0]:
                    error = r[1]  # hand on the items already taken, then fail
                    break
                buf.append(r[1])
            yield buf
            if error is not None:
                raise error
            if ended:
                return
    finally:
        await feeders.close()
