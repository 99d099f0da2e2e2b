"""The sequential stages behind `gokio.Stream`'s combinators, one async generator each.

Every stage owns its upstream iterator(s) and closes them in ``finally``, whatever ends
the stage: the upstream ran out, the consumer stopped early (``aclose()`` throws
``GeneratorExit`` at the stage's ``yield``), a function raised, or the consuming task was
cancelled. Closing a stage therefore closes the whole chain above it, in order, and every
user async generator upstream runs its ``finally`` before ``aclose()`` returns.

Functions may be sync or async. Except for `map_sync` / `map_async` (where `Stream.map`
decides once, from the function itself, see there), a result is awaited when it is
awaitable, so ``filter(lambda x: check(x))`` with an async ``check`` works too.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import (
    AsyncIterator,
    Callable,
    Coroutine,
    Iterable,
    Iterator,
)
from typing import Any, TypeVar

from ._errors import Elapsed
from ._park import consume_budget, coop_yield
from ._time import sleep, timeout

__all__ = [
    "aclose",
    "chain",
    "chunks",
    "enumerate_",
    "filter_",
    "filter_map",
    "flat_map",
    "from_sync",
    "map_async",
    "map_sync",
    "recv_loop",
    "skip",
    "skip_while",
    "take",
    "take_while",
    "then",
    "throttle",
    "timeout_",
    "zip_",
]

T = TypeVar("T")
U = TypeVar("U")

_isawaitable = inspect.isawaitable


async def aclose(it: object) -> None:
    """Close an async iterator if it can be closed (async generators, Streams)."""
    close = getattr(it, "aclose", None)
    if close is not None:
        await close()


async def _close_both(a: object, b: object) -> None:
    try:
        await aclose(a)
    finally:
        await aclose(b)


async def from_sync(it: Iterator[T]) -> AsyncIterator[T]:
    """Adapt a sync iterator; it yields to the loop when the cooperative budget runs out."""
    try:
        for x in it:
            yield x
            # Checked before the next item is taken, so a cancellation of this yield to
            # the loop never loses an item.
            if consume_budget():
                await coop_yield()
    finally:
        close = getattr(it, "close", None)  # a sync generator runs its `finally` now
        if close is not None:
            close()


async def recv_loop(rx: Any, closed: type[BaseException]) -> AsyncIterator[Any]:
    """Receive from ``rx`` until it raises ``closed`` (a receiver without ``async for``)."""
    recv = rx.recv
    while True:
        try:
            v = await recv()
        except closed:
            return
        yield v


async def map_sync(src: AsyncIterator[T], fn: Callable[[T], U]) -> AsyncIterator[U]:
    try:
        async for x in src:
            yield fn(x)
    finally:
        await aclose(src)


async def map_async(
    src: AsyncIterator[T], fn: Callable[[T], Coroutine[Any, Any, U]]
) -> AsyncIterator[U]:
    try:
        async for x in src:
            yield await fn(x)
    finally:
        await aclose(src)


async def then(src: AsyncIterator[T], fn: Callable[[T], Any]) -> AsyncIterator[Any]:
    try:
        async for x in src:
            r = fn(x)
            if _isawaitable(r):
                r = await r
            yield r
    finally:
        await aclose(src)


async def _truth(r: Any) -> bool:
    """The truth of a predicate's result, awaiting it if it is awaitable."""
    if _isawaitable(r):
        r = await r
    return bool(r)


async def filter_(src: AsyncIterator[T], pred: Callable[[T], Any]) -> AsyncIterator[T]:
    try:
        async for x in src:
            r = pred(x)
            # Fast path for plain bools; a coroutine object is truthy, so it must be awaited.
            if r is True or (r is not False and await _truth(r)):
                yield x
    finally:
        await aclose(src)


async def filter_map(src: AsyncIterator[T], fn: Callable[[T], Any]) -> AsyncIterator[Any]:
    try:
        async for x in src:
            r = fn(x)
            if _isawaitable(r):
                r = await r
            if r is not None:
                yield r
    finally:
        await aclose(src)


async def take(src: AsyncIterator[T], n: int) -> AsyncIterator[T]:
    try:
        if n <= 0:
            return
        async for x in src:
            n -= 1
            if n == 0:
                # Release the upstream as soon as the last item is in hand: it is never
                # asked for one more item, and its `finally` runs before we hand it on.
                await aclose(src)
                yield x
                return
            yield x
    finally:
        await aclose(src)


async def take_while(src: AsyncIterator[T], pred: Callable[[T], Any]) -> AsyncIterator[T]:
    try:
        async for x in src:
            r = pred(x)
            if r is True or (r is not False and await _truth(r)):
                yield x
            else:
                return
    finally:
        await aclose(src)


async def skip(src: AsyncIterator[T], n: int) -> AsyncIterator[T]:
    try:
        async for x in src:
            if n > 0:
                n -= 1
                continue
            yield x
    finally:
        await aclose(src)


async def skip_while(src: AsyncIterator[T], pred: Callable[[T], Any]) -> AsyncIterator[T]:
    try:
        skipping = True
        async for x in src:
            if skipping:
                r = pred(x)
                if r is True or (r is not False and await _truth(r)):
                    continue
                skipping = False
            yield x
    finally:
        await aclose(src)


async def chunks(src: AsyncIterator[T], n: int) -> AsyncIterator[list[T]]:
    try:
        buf: list[T] = []
        async for x in src:
            buf.append(x)
            if len(buf) >= n:
                chunk, buf = buf, []
                yield chunk
        if buf:
            yield buf
    finally:
        await aclose(src)


async def enumerate_(src: AsyncIterator[T], start: int) -> AsyncIterator[tuple[int, T]]:
    try:
        i = start
        async for x in src:
            yield (i, x)
            i += 1
    finally:
        await aclose(src)


async def chain(a: AsyncIterator[T], b: AsyncIterator[T]) -> AsyncIterator[T]:
    try:
        async for x in a:
            yield x
        await aclose(a)  # done with it: release it before waiting on the second stream
        async for x in b:
            yield x
    finally:
        await _close_both(a, b)


async def zip_(a: AsyncIterator[T], b: AsyncIterator[U]) -> AsyncIterator[tuple[T, U]]:
    try:
        while True:
            # One item from each, in turn; when either ends the zip ends, and the other
            # is not asked for an item it could not pair.
            try:
                x = await a.__anext__()
            except StopAsyncIteration:
                return
            try:
                y = await b.__anext__()
            except StopAsyncIteration:
                return
            yield (x, y)
    finally:
        await _close_both(a, b)


async def flat_map(src: AsyncIterator[T], fn: Callable[[T], Any]) -> AsyncIterator[Any]:
    try:
        async for x in src:
            inner = fn(x)
            if not hasattr(type(inner), "__aiter__") and _isawaitable(inner):
                inner = await inner
            if hasattr(type(inner), "__aiter__"):
                ait: AsyncIterator[Any] = inner.__aiter__()
                try:
                    async for y in ait:
                        yield y
                finally:
                    await aclose(ait)
            elif isinstance(inner, Iterable):
                it = inner.__iter__()
                try:
                    for y in it:
                        yield y
                        if consume_budget():
                            await coop_yield()
                finally:
                    close = getattr(it, "close", None)
                    if close is not None:
                        close()
            else:
                raise TypeError(
                    "flat_map() function must return an iterable, an async iterable or a "
                    f"Stream (or an awaitable of one), got {type(inner).__name__}"
                )
    finally:
        await aclose(src)


async def throttle(src: AsyncIterator[T], seconds: float) -> AsyncIterator[T]:
    loop = asyncio.get_running_loop()
    try:
        next_at: float | None = None
        while True:
            if next_at is not None:
                delay = next_at - loop.time()
                if delay > 0:
                    # Wait *before* asking upstream for the next item: the throttle never
                    # reads ahead of what it may emit.
                    await sleep(delay)
            try:
                x = await src.__anext__()
            except StopAsyncIteration:
                return
            next_at = loop.time() + seconds
            yield x
    finally:
        await aclose(src)


async def _next_of(src: AsyncIterator[T]) -> T:
    return await src.__anext__()


async def timeout_(src: AsyncIterator[T], seconds: float) -> AsyncIterator[T]:
    try:
        while True:
            try:
                # An expired wait cancels the upstream step, which ends the upstream (an
                # async generator cannot resume after a cancellation thrown into it);
                # that is fine: the stage itself ends with Elapsed.
                x = await timeout(seconds, _next_of(src))
            except StopAsyncIteration:
                return
            except Elapsed as e:
                raise Elapsed(f"stream: no item within {seconds:g} s (Stream.timeout)") from e
            yield x
    finally:
        await aclose(src)
