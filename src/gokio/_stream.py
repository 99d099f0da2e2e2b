"""`Stream`: lazy, composable async iteration with clean early exit (tokio-stream's ``StreamExt``).

A `Stream` wraps one async iterator. Each combinator *consumes* the stream it is called
on and returns a new one whose source is a stage (an async generator in `_stream_ops` or
`_stream_conc`) that owns its upstream. Nothing runs until the final stream is iterated.

Early exit is clean by construction: every stage closes its upstream in ``finally``, so
``aclose()`` on the outermost stream (done by every terminal, by ``async with stream``,
and by the loop's async-generator finalizer when a stream is dropped after a ``break``)
runs every upstream generator's ``finally``, and the concurrent stages cancel and await
their tasks before they close their sources.
"""

from __future__ import annotations

import builtins
import inspect
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Coroutine, Iterable
from types import TracebackType
from typing import Any, Generic, TypeVar, final, overload

from . import _interval
from . import _stream_conc as conc
from . import _stream_ops as ops
from ._errors import Closed
from ._task import _is_async_callable
from ._time import Instant, check_seconds

__all__ = ["Stream", "empty", "from_channel", "interval", "iter", "merge", "once", "repeat"]

T = TypeVar("T")
U = TypeVar("U")
A = TypeVar("A")

_isawaitable = inspect.isawaitable


def _check_fn(fn: object, method: str) -> None:
    if callable(fn):
        return
    if inspect.iscoroutine(fn):
        fn.close()  # never awaited: close it so it does not warn on top of our error
        raise TypeError(
            f"{method}() takes a function, got a coroutine object; pass the function "
            f"itself (.{method}(fetch)), not the result of calling it (.{method}(fetch(x)))"
        )
    raise TypeError(f"{method}() takes a function (sync or async), got {type(fn).__name__}")


def _check_count(n: object, method: str, minimum: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"{method}() takes an int, got {type(n).__name__}")
    if n < minimum:
        raise ValueError(f"{method}() needs n >= {minimum}, got {n}")
    return n


def _as_stream(x: object, method: str) -> Stream[Any]:
    if isinstance(x, Stream):
        return x
    if hasattr(type(x), "__aiter__"):
        return Stream(x)  # type: ignore[arg-type]
    if isinstance(x, Iterable):
        return iter(x)
    raise TypeError(f"{method}() takes a Stream or an (async) iterable, got {type(x).__name__}")


@final
class Stream(Generic[T]):
    """A lazy asynchronous sequence of ``T`` with combinators (Tokio's ``StreamExt``).

    ``Stream(aiterable)`` wraps any async iterable; `gokio.stream.iter` wraps a sync one.
    Combinators (``map``, ``filter``, ``buffer_unordered`` ...) are lazy: they return a
    new stream and consume this one, which must not be used again (doing so raises
    ``RuntimeError``). Terminals (``collect``, ``fold``, ``for_each`` ...) drive it.
    Wherever a function is taken it may be sync or async.

    Leaving early is clean: terminals close the stream when they stop; ``async with
    stream:`` closes it on exit from the block (use it when you ``break`` out of an
    ``async for`` and want the upstream closed at once); a stream dropped after a
    ``break`` is closed by the event loop soon after. Closing runs the ``finally`` of every
    upstream async generator and cancels and awaits any work in flight.

    Like an async generator, a stream has one consumer at a time and lives on one event
    loop; share its items through a channel, not the stream itself.
    """

    __slots__ = ("_it", "_src", "_taken_by")

    def __init__(self, source: AsyncIterable[T]) -> None:
        if not hasattr(type(source), "__aiter__"):
            hint = (
                " (use gokio.stream.iter() for a sync iterable)"
                if isinstance(source, Iterable)
                else ""
            )
            raise TypeError(f"Stream() takes an async iterable, got {type(source).__name__}{hint}")
        self._src = source
        self._it: AsyncIterator[T] | None = None
        self._taken_by: str | None = None

    # --- plumbing -------------------------------------------------------------------------

    def _iter(self) -> AsyncIterator[T]:
        if self._taken_by is not None:
            raise RuntimeError(
                f"this Stream was consumed by .{self._taken_by}(); a combinator takes over "
                "the stream it is called on: keep using the stream it returned"
            )
        it = self._it
        if it is None:
            it = self._it = self._src.__aiter__()
        return it

    def _take(self, method: str) -> AsyncIterator[T]:
        it = self._iter()
        self._taken_by = method
        return it

    def __aiter__(self) -> AsyncIterator[T]:
        return self._iter()

    def __anext__(self) -> Awaitable[T]:
        return self._iter().__anext__()

    async def aclose(self) -> None:
        """Close the stream: every upstream generator's ``finally`` runs, in-flight work is
        cancelled and awaited. Closing a closed or exhausted stream does nothing.

        Cancel safety: cancelling ``aclose`` still lets the in-flight work of concurrent
        stages finish cancelling before the cancellation is re-raised.
        """
        if self._taken_by is not None:
            return  # the stream that took it over owns the closing
        await ops.aclose(self._iter())

    async def __aenter__(self) -> Stream[T]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        state = f" consumed by .{self._taken_by}()" if self._taken_by else ""
        return f"<gokio.Stream of {type(self._src).__name__}{state}>"

    # --- transforming ---------------------------------------------------------------------

    @overload
    def map(self, fn: Callable[[T], Coroutine[Any, Any, U]]) -> Stream[U]: ...
    @overload
    def map(self, fn: Callable[[T], U]) -> Stream[U]: ...
    def map(self, fn: Callable[[T], Any]) -> Stream[Any]:
        """Each item ``x`` becomes ``fn(x)``; an async function's result is awaited.

        Whether to await is decided once, from ``fn`` itself (an ``async def`` function,
        a ``functools.partial`` of one, or an object with an ``async def __call__``). A
        plain function's result is passed on as it is, even if it is awaitable: that is
        how to build a stream of awaitables for `buffer_unordered` / `buffered`, e.g.
        ``urls.map(lambda u: fetch(u)).buffer_unordered(4)``. Use `then` to await
        whatever ``fn`` returns.
        """
        _check_fn(fn, "map")
        src = self._take("map")
        if _is_async_callable(fn):
            return Stream(ops.map_async(src, fn))
        return Stream(ops.map_sync(src, fn))

    @overload
    def then(self, fn: Callable[[T], Awaitable[U]]) -> Stream[U]: ...
    @overload
    def then(self, fn: Callable[[T], U]) -> Stream[U]: ...
    def then(self, fn: Callable[[T], Any]) -> Stream[Any]:
        """Each item ``x`` becomes ``fn(x)``, awaited (one at a time) if it is awaitable."""
        _check_fn(fn, "then")
        return Stream(ops.then(self._take("then"), fn))

    def filter(self, pred: Callable[[T], Any]) -> Stream[T]:
        """Keep the items for which ``pred(x)`` (awaited if awaitable) is true."""
        _check_fn(pred, "filter")
        return Stream(ops.filter_(self._take("filter"), pred))

    @overload
    def filter_map(self, fn: Callable[[T], Awaitable[U | None]]) -> Stream[U]: ...
    @overload
    def filter_map(self, fn: Callable[[T], U | None]) -> Stream[U]: ...
    def filter_map(self, fn: Callable[[T], Any]) -> Stream[Any]:
        """Each item becomes ``fn(x)`` (awaited if awaitable); None results are dropped."""
        _check_fn(fn, "filter_map")
        return Stream(ops.filter_map(self._take("filter_map"), fn))

    def flat_map(self, fn: Callable[[T], Any]) -> Stream[Any]:
        """Each item becomes the items of ``fn(x)``: an iterable, an async iterable or a
        Stream (or an awaitable of one), iterated to its end before the next item."""
        _check_fn(fn, "flat_map")
        return Stream(ops.flat_map(self._take("flat_map"), fn))

    def enumerate(self, start: int = 0) -> Stream[tuple[int, T]]:
        """Pair every item with its index: ``(start, x0), (start + 1, x1), ...``."""
        _check_count(start, "enumerate", -(2**63))
        return Stream(ops.enumerate_(self._take("enumerate"), start))

    # --- selecting ------------------------------------------------------------------------

    def take(self, n: int) -> Stream[T]:
        """The first ``n`` items (``n >= 0``). The upstream is closed as soon as the
        ``n``-th item is in hand; it is never asked for more."""
        _check_count(n, "take", 0)
        return Stream(ops.take(self._take("take"), n))

    def take_while(self, pred: Callable[[T], Any]) -> Stream[T]:
        """Items while ``pred(x)`` is true; ends (and closes upstream) at the first false."""
        _check_fn(pred, "take_while")
        return Stream(ops.take_while(self._take("take_while"), pred))

    def skip(self, n: int) -> Stream[T]:
        """All items but the first ``n`` (``n >= 0``)."""
        _check_count(n, "skip", 0)
        return Stream(ops.skip(self._take("skip"), n))

    def skip_while(self, pred: Callable[[T], Any]) -> Stream[T]:
        """Drop items while ``pred(x)`` is true, then pass every item on."""
        _check_fn(pred, "skip_while")
        return Stream(ops.skip_while(self._take("skip_while"), pred))

    # --- grouping and timing --------------------------------------------------------------

    def chunks(self, n: int) -> Stream[list[T]]:
        """Lists of ``n`` items (``n >= 1``); the last one may be shorter."""
        _check_count(n, "chunks", 1)
        return Stream(ops.chunks(self._take("chunks"), n))

    def chunks_timeout(self, n: int, seconds: float) -> Stream[list[T]]:
        """Lists of up to ``n`` items: a chunk is emitted when it is full, or when
        ``seconds`` have passed since its first item arrived (never empty).

        The upstream is stepped by a task of this stage, so that the deadline can pass
        without interrupting it; that task is cancelled and awaited when the stage ends.
        """
        _check_count(n, "chunks_timeout", 1)
        s = check_seconds(seconds)
        return Stream(conc.chunks_timeout(self._take("chunks_timeout"), n, s))

    def throttle(self, seconds: float) -> Stream[T]:
        """Space items at least ``seconds`` apart (the first passes at once). The upstream
        is asked for the next item only once it may be emitted."""
        s = check_seconds(seconds)
        return Stream(ops.throttle(self._take("throttle"), s))

    def timeout(self, seconds: float) -> Stream[T]:
        """Raise `gokio.Elapsed` if the next item takes longer than ``seconds`` to arrive.

        The stream ends with that error: the upstream step that was waiting is cancelled.
        """
        s = check_seconds(seconds)
        return Stream(ops.timeout_(self._take("timeout"), s))

    # --- concurrency ----------------------------------------------------------------------

    @overload
    def buffer_unordered(self: Stream[Awaitable[U]], n: int) -> Stream[U]: ...
    @overload
    def buffer_unordered(self: Stream[Any], n: int) -> Stream[Any]: ...
    def buffer_unordered(self, n: int) -> Stream[Any]:
        """Await up to ``n`` items (awaitables) at once; yield results as they complete.

        At most ``n`` items run at once. A slow consumer makes the stage stop pulling:
        at most ``2 * n`` items are pulled from upstream and not yet handed on (running,
        or done and waiting for the consumer). An item that raises makes the
        stream raise that exception (the others are cancelled); an exception from upstream
        is raised after the items pulled before it. Closing the stream cancels and awaits
        every item in flight.
        """
        _check_count(n, "buffer_unordered", 1)
        src = self._take("buffer_unordered")
        return Stream(conc.run_pool(src, n, None, False, "gokio.stream.buffer_unordered"))

    @overload
    def buffered(self: Stream[Awaitable[U]], n: int) -> Stream[U]: ...
    @overload
    def buffered(self: Stream[Any], n: int) -> Stream[Any]: ...
    def buffered(self, n: int) -> Stream[Any]:
        """Like `buffer_unordered` (at most ``n`` in flight) but results keep input order."""
        _check_count(n, "buffered", 1)
        src = self._take("buffered")
        return Stream(conc.run_pool(src, n, None, True, "gokio.stream.buffered"))

    def merge(self, other: Stream[U] | AsyncIterable[U] | Iterable[U]) -> Stream[T | U]:
        """Items of both streams as they arrive (see `gokio.stream.merge`)."""
        return merge(self, other)

    def zip(self, other: Stream[U] | AsyncIterable[U] | Iterable[U]) -> Stream[tuple[T, U]]:
        """Pairs ``(a, b)`` of one item of each, until either stream ends."""
        b = _as_stream(other, "zip")
        a = self._take("zip")
        return Stream(ops.zip_(a, b._take("zip")))

    def chain(self, other: Stream[U] | AsyncIterable[U] | Iterable[U]) -> Stream[T | U]:
        """Every item of this stream, then every item of ``other``."""
        b = _as_stream(other, "chain")
        a: AsyncIterator[Any] = self._take("chain")
        return Stream(ops.chain(a, b._take("chain")))

    # --- terminals ------------------------------------------------------------------------

    async def next(self) -> T:
        """The next item.

        Raises:
            StopAsyncIteration: the stream has ended.

        Cancel safety: cancelling ``next()`` while it waits throws the cancellation into
        the stream's stages, which ends the stream; an item a channel had not handed
        over yet stays in the channel.
        """
        return await self._iter().__anext__()

    async def collect(self) -> list[T]:
        """All items, in a list.

        Cancel safety: cancelling it closes the stream; the items gathered so far are lost.
        """
        it = self._take("collect")
        try:
            return [x async for x in it]
        finally:
            await ops.aclose(it)

    async def count(self) -> int:
        """The number of items.

        Cancel safety: cancelling it closes the stream.
        """
        it = self._take("count")
        n = 0
        try:
            async for _ in it:
                n += 1
        finally:
            await ops.aclose(it)
        return n

    async def fold(self, init: A, fn: Callable[[A, T], A | Awaitable[A]]) -> A:
        """``fn(...fn(fn(init, x0), x1)..., xn)``, each call awaited if it returns an awaitable.

        Cancel safety: cancelling it closes the stream; the accumulator is lost.
        """
        _check_fn(fn, "fold")
        it = self._take("fold")
        acc: Any = init
        try:
            async for x in it:
                acc = fn(acc, x)
                if _isawaitable(acc):
                    acc = await acc
        finally:
            await ops.aclose(it)
        return acc  # type: ignore[no-any-return]

    async def for_each(self, fn: Callable[[T], Any]) -> None:
        """Call ``fn(x)`` on every item, one at a time (awaiting it if it returns an awaitable).

        Cancel safety: cancelling it cancels the current call and closes the stream.
        """
        _check_fn(fn, "for_each")
        it = self._take("for_each")
        try:
            async for x in it:
                r = fn(x)
                if _isawaitable(r):
                    await r
        finally:
            await ops.aclose(it)

    async def for_each_concurrent(self, n: int, fn: Callable[[T], Any]) -> None:
        """Call ``fn(x)`` on every item with at most ``n`` calls in flight at once.

        On the first exception the calls in flight are cancelled and awaited, the stream is
        closed and the exception is raised.

        Cancel safety: cancelling it cancels and awaits every call in flight and closes
        the stream.
        """
        _check_count(n, "for_each_concurrent", 1)
        _check_fn(fn, "for_each_concurrent")
        src = self._take("for_each_concurrent")
        it = conc.run_pool(src, n, fn, False, "gokio.stream.for_each_concurrent")
        try:
            async for _ in it:
                pass
        finally:
            await ops.aclose(it)


# --- constructors ------------------------------------------------------------------------------


def iter(iterable: Iterable[T] | AsyncIterable[T]) -> Stream[T]:
    """A stream of the items of ``iterable`` (a sync iterable; an async one works too).

    A long run of ready items yields to the event loop now and then (gokio's cooperative
    budget), so a huge iterable does not starve other tasks. A sync generator is closed
    (its ``finally`` runs) when the stream is closed.
    """
    if isinstance(iterable, Stream):
        return iterable
    if hasattr(type(iterable), "__aiter__"):
        return Stream(iterable)  # type: ignore[arg-type]
    if not isinstance(iterable, Iterable):
        raise TypeError(f"stream.iter() takes an iterable, got {type(iterable).__name__}")
    return Stream(ops.from_sync(builtins.iter(iterable)))


def once(value: T) -> Stream[T]:
    """A stream of exactly one item."""
    return Stream(ops.from_sync(builtins.iter((value,))))


def repeat(value: T) -> Stream[T]:
    """An endless stream of ``value`` (bound it with ``take``, ``take_while`` ...)."""
    import itertools

    return Stream(ops.from_sync(itertools.repeat(value)))


def empty() -> Stream[Any]:
    """A stream with no items."""
    return Stream(ops.from_sync(builtins.iter(())))


def interval(period: float, *, missed_tick: _interval.MissedTick = "burst") -> Stream[Instant]:
    """An endless stream of ticks, like `gokio.interval`: the first at once, then one per
    ``period``; each item is the `gokio.Instant` the tick was scheduled for.

    Raises:
        ValueError: ``period`` is not positive, or ``missed_tick`` is unknown.
    """
    return Stream(_interval.interval(period, missed_tick=missed_tick))


def from_channel(rx: Any) -> Stream[Any]:
    """A stream of what ``rx`` receives, ending when the channel is closed and drained.

    ``rx`` is any receiver: a `gokio.chan`, an mpsc or broadcast receiver (anything
    with ``async for``, or with ``await rx.recv()`` raising `gokio.Closed` at the end).
    A broadcast receiver that lags makes the stream raise `gokio.Lagged`. Closing the
    stream does not close the channel: unreceived items stay in it.
    """
    if hasattr(type(rx), "__aiter__"):
        return Stream(rx)
    if callable(getattr(rx, "recv", None)):
        return Stream(ops.recv_loop(rx, Closed))
    raise TypeError(
        "stream.from_channel() takes a channel receiver (async for / recv()), "
        f"got {type(rx).__name__}"
    )


def merge(*streams: Stream[Any] | AsyncIterable[Any] | Iterable[Any]) -> Stream[Any]:
    """The items of every stream, interleaved as they arrive; ends when all have ended.

    Each source is stepped by its own task (cancelled and awaited when the merged stream
    ends), and only when the consumer asks for more, so no source is read ahead by more
    than the one step it is waiting on. If a source raises, the merged stream raises it
    and closes the others.
    """
    srcs = [_as_stream(s, "merge") for s in streams]
    its = [s._take("merge") for s in srcs]
    if not its:
        return empty()
    if len(its) == 1:
        return Stream(its[0])
    return Stream(conc.merge(its))
