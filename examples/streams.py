"""Streams: lazy async sequences with combinators (tokio-stream / futures ``StreamExt``).

The Rust programs::

    let mut s = stream::iter(0..)
        .filter(|x| future::ready(x % 2 == 0))
        .map(|x| x * x)
        .take(5)
        .throttle(Duration::from_millis(100));          // tokio_stream::StreamExt
    while let Some(v) = s.next().await { println!("{v}"); }

    let countdown = async_stream::stream! {
        for i in (1..=n).rev() { yield i; sleep(..).await; }
    };

    let results: Vec<_> = stream::iter(jobs)
        .map(|job| work(job))        // a stream of futures ...
        .buffer_unordered(4)         // ... at most 4 running, results as they complete
        .collect().await;

In gokio every combinator takes a sync or an async function, and leaving early (``take``,
``break``, an exception, a cancellation) closes the async generators upstream and
cancels the work in flight.

Run it: ``python examples/streams.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import gokio
from gokio import stream


def even(x: int) -> bool:
    return x % 2 == 0


def square(x: int) -> int:
    return x * x


async def throttled_squares() -> None:
    t0 = gokio.Instant.now()
    # take(5) ends the pipeline after the fifth square: the rest of the range is never pulled.
    async for v in stream.iter(range(10**9)).filter(even).map(square).take(5).throttle(0.1):
        print(f"  {v:>3} at +{t0.elapsed():.1f} s")


async def countdown(n: int) -> AsyncIterator[int]:
    try:
        for i in range(n, 0, -1):
            yield i
            await gokio.sleep(0.02)
    finally:
        print(f"  countdown({n}) closed")  # runs however the consumer stops


async def slow_square(n: int) -> int:
    await gokio.sleep(0.01 * (9 - n))  # the later jobs finish first
    return n * n


@gokio.main
async def main() -> None:
    print("iter(range(10**9)).filter(even).map(square).take(5).throttle(0.1):")
    await throttled_squares()

    print("a countdown async generator, in full:")
    print(f"  {await gokio.Stream(countdown(5)).collect()}")
    print("the same countdown, stopped early by take(2):")
    print(f"  {await gokio.Stream(countdown(10)).take(2).map(lambda i: f'T-{i}').collect()}")

    jobs = range(1, 9)
    t0 = gokio.Instant.now()
    # A sync lambda returns the coroutine itself: map builds a stream of awaitables.
    unordered = await stream.iter(jobs).map(lambda n: slow_square(n)).buffer_unordered(4).collect()
    elapsed = t0.elapsed()
    ordered = await stream.iter(jobs).map(lambda n: slow_square(n)).buffered(4).collect()
    print("buffer_unordered(4), in completion order:", unordered)
    print("buffered(4), in input order:             ", ordered)
    print(f"8 jobs, 4 at a time, in {elapsed:.2f} s (one by one: {sum(range(9)) * 0.01:.2f} s)")
    assert sorted(unordered) == ordered == [n * n for n in jobs]


if __name__ == "__main__":
    main()
