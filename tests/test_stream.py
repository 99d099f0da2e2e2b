"""gokio.stream: constructors, combinators, terminals and argument errors (issue 5, item 1).

Early exit, cancellation and the concurrency bounds are in test_stream_exit.py; the
time-dependent stages (virtual clock) in test_stream_time.py; the model-based and stress
tests in test_stream_model.py.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

import gokio
from gokio import stream
from tests.conftest import Runner


async def agen(n: int) -> AsyncIterator[int]:
    for i in range(n):
        await asyncio.sleep(0)
        yield i


async def aident(x: int) -> int:
    await asyncio.sleep(0)
    return x


async def adouble(x: int) -> int:
    await asyncio.sleep(0)
    return 2 * x


async def aeven(x: int) -> bool:
    await asyncio.sleep(0)
    return x % 2 == 0


# --- constructors ------------------------------------------------------------------------------


def test_iter_of_a_sync_iterable_yields_its_items(run: Runner) -> None:
    assert run(stream.iter(range(5)).collect()) == [0, 1, 2, 3, 4]


def test_iter_of_an_async_iterable_yields_its_items(run: Runner) -> None:
    assert run(stream.iter(agen(3)).collect()) == [0, 1, 2]


def test_stream_wraps_an_async_iterable(run: Runner) -> None:
    assert run(gokio.Stream(agen(3)).collect()) == [0, 1, 2]


def test_stream_is_exported_from_gokio() -> None:
    assert gokio.Stream is stream.Stream
    assert "Stream" in gokio.__all__


def test_once_yields_one_item(run_default: Runner) -> None:
    assert run_default(stream.once("x").collect()) == ["x"]


def test_repeat_is_endless(run_default: Runner) -> None:
    assert run_default(stream.repeat(7).take(4).collect()) == [7, 7, 7, 7]


def test_empty_has_no_items(run_default: Runner) -> None:
    assert run_default(stream.empty().collect()) == []


def test_merge_of_nothing_is_empty(run_default: Runner) -> None:
    assert run_default(stream.merge().collect()) == []


def test_merge_of_one_stream_is_that_stream(run_default: Runner) -> None:
    assert run_default(stream.merge(stream.iter([1, 2])).collect()) == [1, 2]


def test_merge_yields_every_item_of_every_stream(run: Runner) -> None:
    out = run(stream.merge(stream.iter(range(5)), agen(4), [10, 11]).collect())
    assert sorted(out) == [0, 0, 1, 1, 2, 2, 3, 3, 4, 10, 11]


def test_merge_interleaves_ready_streams_fairly(run_default: Runner) -> None:
    out = run_default(stream.iter("abc").merge(stream.iter("xyz")).collect())
    assert out == ["a", "x", "b", "y", "c", "z"]


def test_from_channel_receives_from_a_gokio_chan_until_closed(run: Runner) -> None:
    async def main() -> list[int]:
        ch: gokio.Chan[int] = gokio.chan(2)

        async def produce() -> None:
            for i in range(5):
                await ch.send(i)
            ch.close()

        h = gokio.spawn(produce())
        out = await stream.from_channel(ch).map(lambda x: x * 10).collect()
        await h
        return out

    assert run(main()) == [0, 10, 20, 30, 40]


def test_from_channel_receives_from_an_mpsc_receiver(run: Runner) -> None:
    async def main() -> list[int]:
        tx: gokio.mpsc.Sender[int]
        rx: gokio.mpsc.Receiver[int]
        tx, rx = gokio.mpsc.channel(1)

        async def produce() -> None:
            with tx:
                for i in range(4):
                    await tx.send(i)

        h = gokio.spawn(produce())
        out = await stream.from_channel(rx).collect()
        await h
        return out

    assert run(main()) == [0, 1, 2, 3]


def test_from_channel_receives_from_a_broadcast_receiver(run_default: Runner) -> None:
    async def main() -> list[str]:
        tx: gokio.broadcast.BroadcastSender[str]
        rx: gokio.broadcast.BroadcastReceiver[str]
        tx, rx = gokio.broadcast.channel(8)
        for v in "abc":
            tx.send(v)
        tx.close()
        return await stream.from_channel(rx).collect()

    assert run_default(main()) == ["a", "b", "c"]


def test_from_channel_takes_a_receiver_with_only_recv(run_default: Runner) -> None:
    class RecvOnly:
        def __init__(self) -> None:
            self.items = [1, 2, 3]

        async def recv(self) -> int:
            await asyncio.sleep(0)
            if not self.items:
                raise gokio.Closed("closed and drained")
            return self.items.pop(0)

    assert run_default(stream.from_channel(RecvOnly()).collect()) == [1, 2, 3]


def test_closing_a_channel_stream_leaves_the_rest_in_the_channel(run_default: Runner) -> None:
    async def main() -> list[int]:
        ch: gokio.Chan[int] = gokio.chan(5)
        for i in range(5):
            ch.try_send(i)
        assert await stream.from_channel(ch).take(2).collect() == [0, 1]
        ch.close()
        return [x async for x in ch]

    assert run_default(main()) == [2, 3, 4]


# --- transforming ------------------------------------------------------------------------------


def test_map_with_a_sync_function(run: Runner) -> None:
    assert run(stream.iter(range(4)).map(lambda x: x + 1).collect()) == [1, 2, 3, 4]


def test_map_with_an_async_function_awaits_it(run: Runner) -> None:
    assert run(stream.iter(range(4)).map(adouble).collect()) == [0, 2, 4, 6]


def test_map_awaits_a_partial_of_an_async_function(run_default: Runner) -> None:
    async def add(a: int, b: int) -> int:
        return a + b

    assert run_default(stream.iter(range(3)).map(functools.partial(add, 10)).collect()) == [
        10,
        11,
        12,
    ]


def test_map_awaits_an_object_with_async_call(run_default: Runner) -> None:
    class Adder:
        async def __call__(self, x: int) -> int:
            return x + 100

    assert run_default(stream.iter(range(2)).map(Adder()).collect()) == [100, 101]


def test_map_with_a_plain_function_passes_awaitables_on(run_default: Runner) -> None:
    async def main() -> list[int]:
        # (Typed Stream[int]: a type checker cannot tell this lambda from an async def.)
        items: list[Any] = await stream.iter(range(3)).map(lambda x: aident(x)).collect()
        assert all(asyncio.iscoroutine(c) for c in items)
        return [await c for c in items]

    assert run_default(main()) == [0, 1, 2]


def test_then_awaits_whatever_the_function_returns(run: Runner) -> None:
    out = run(stream.iter(range(3)).then(lambda x: adouble(x)).collect())
    assert out == [0, 2, 4]


def test_then_with_a_sync_function(run_default: Runner) -> None:
    assert run_default(stream.iter("ab").then(str.upper).collect()) == ["A", "B"]


def test_filter_with_a_sync_predicate(run: Runner) -> None:
    assert run(stream.iter(range(6)).filter(lambda x: x % 3 == 0).collect()) == [0, 3]


def test_filter_with_an_async_predicate(run: Runner) -> None:
    assert run(stream.iter(range(6)).filter(aeven).collect()) == [0, 2, 4]


def test_filter_awaits_a_predicate_returning_a_coroutine(run_default: Runner) -> None:
    assert run_default(stream.iter(range(5)).filter(lambda x: aeven(x)).collect()) == [0, 2, 4]


def test_filter_uses_truthiness(run_default: Runner) -> None:
    assert run_default(stream.iter([0, 1, "", "a", None]).filter(lambda x: x).collect()) == [
        1,
        "a",
    ]


def test_filter_map_drops_none(run: Runner) -> None:
    out = run(stream.iter(range(6)).filter_map(lambda x: x * 10 if x % 2 else None).collect())
    assert out == [10, 30, 50]


def test_filter_map_with_an_async_function(run_default: Runner) -> None:
    async def half(x: int) -> int | None:
        return x // 2 if x % 2 == 0 else None

    assert run_default(stream.iter(range(6)).filter_map(half).collect()) == [0, 1, 2]


def test_filter_map_keeps_falsy_values_other_than_none(run_default: Runner) -> None:
    assert run_default(stream.iter([0, "", None]).filter_map(lambda x: x).collect()) == [0, ""]


def test_enumerate_counts_from_zero(run_default: Runner) -> None:
    assert run_default(stream.iter("ab").enumerate().collect()) == [(0, "a"), (1, "b")]


def test_enumerate_from_a_start(run_default: Runner) -> None:
    assert run_default(stream.iter("ab").enumerate(5).collect()) == [(5, "a"), (6, "b")]


def test_flat_map_flattens_lists_async_generators_and_streams(run: Runner) -> None:
    def expand(x: int) -> Any:
        if x == 0:
            return [0, 0]
        if x == 1:
            return agen(2)
        return stream.iter("ab")

    assert run(stream.iter(range(3)).flat_map(expand).collect()) == [0, 0, 0, 1, "a", "b"]


def test_flat_map_awaits_an_async_function(run_default: Runner) -> None:
    async def expand(x: int) -> list[int]:
        await asyncio.sleep(0)
        return [x] * x

    assert run_default(stream.iter(range(4)).flat_map(expand).collect()) == [1, 2, 2, 3, 3, 3]


def test_flat_map_closes_a_sync_generator_it_leaves_early(run_default: Runner) -> None:
    closed: list[int] = []

    def inner(x: int) -> Iterator[int]:
        try:
            yield from range(10)
        finally:
            closed.append(x)

    assert run_default(stream.iter([7]).flat_map(inner).take(3).collect()) == [0, 1, 2]
    assert closed == [7]


# --- selecting -------------------------------------------------------------------------------


def test_take_yields_the_first_n(run: Runner) -> None:
    assert run(stream.iter(range(10)).take(3).collect()) == [0, 1, 2]


def test_take_zero_yields_nothing(run_default: Runner) -> None:
    assert run_default(stream.iter(range(10)).take(0).collect()) == []


def test_take_more_than_there_is(run_default: Runner) -> None:
    assert run_default(stream.iter(range(2)).take(5).collect()) == [0, 1]


def test_take_never_pulls_an_extra_item(run_default: Runner) -> None:
    pulled: list[int] = []

    def src() -> Iterator[int]:
        for i in range(10):
            pulled.append(i)
            yield i

    assert run_default(stream.iter(src()).take(3).collect()) == [0, 1, 2]
    assert pulled == [0, 1, 2]


def test_take_while_stops_at_the_first_false(run: Runner) -> None:
    out = run(stream.iter([1, 2, 5, 1]).take_while(lambda x: x < 3).collect())
    assert out == [1, 2]


def test_take_while_with_an_async_predicate(run_default: Runner) -> None:
    assert run_default(stream.iter([0, 2, 3, 4]).take_while(aeven).collect()) == [0, 2]


def test_skip_drops_the_first_n(run: Runner) -> None:
    assert run(stream.iter(range(5)).skip(2).collect()) == [2, 3, 4]


def test_skip_more_than_there_is(run_default: Runner) -> None:
    assert run_default(stream.iter(range(2)).skip(5).collect()) == []


def test_skip_while_drops_until_the_first_false(run: Runner) -> None:
    out = run(stream.iter([1, 2, 5, 1]).skip_while(lambda x: x < 3).collect())
    assert out == [5, 1]


def test_skip_while_with_an_async_predicate(run_default: Runner) -> None:
    assert run_default(stream.iter([0, 2, 3, 4]).skip_while(aeven).collect()) == [3, 4]


def test_chunks_groups_n_items_and_a_short_last(run: Runner) -> None:
    assert run(stream.iter(range(7)).chunks(3).collect()) == [[0, 1, 2], [3, 4, 5], [6]]


def test_chunks_of_an_exact_multiple_has_no_empty_chunk(run_default: Runner) -> None:
    assert run_default(stream.iter(range(4)).chunks(2).collect()) == [[0, 1], [2, 3]]


def test_chain_yields_one_stream_then_the_other(run: Runner) -> None:
    assert run(stream.iter([1, 2]).chain(agen(2)).chain([9]).collect()) == [1, 2, 0, 1, 9]


def test_zip_pairs_items_until_the_shorter_ends(run: Runner) -> None:
    assert run(stream.iter(range(5)).zip(agen(3)).collect()) == [(0, 0), (1, 1), (2, 2)]


def test_zip_does_not_pull_from_the_second_when_the_first_ended(run_default: Runner) -> None:
    pulled: list[int] = []

    def src() -> Iterator[int]:
        for i in range(10):
            pulled.append(i)
            yield i

    assert run_default(stream.iter("ab").zip(src()).collect()) == [("a", 0), ("b", 1)]
    assert pulled == [0, 1]


# --- terminals ---------------------------------------------------------------------------------


def test_collect_gathers_every_item(run: Runner) -> None:
    assert run(stream.iter(agen(4)).collect()) == [0, 1, 2, 3]


def test_count_counts_items(run: Runner) -> None:
    assert run(stream.iter(range(1000)).filter(lambda x: x % 7 == 0).count()) == 143


def test_fold_with_a_sync_function(run_default: Runner) -> None:
    assert run_default(stream.iter(range(5)).fold(0, lambda a, x: a + x)) == 10


def test_fold_with_an_async_function(run: Runner) -> None:
    async def push(acc: list[int], x: int) -> list[int]:
        await asyncio.sleep(0)
        return [*acc, x]

    assert run(stream.iter(range(3)).fold([], push)) == [0, 1, 2]


def test_for_each_calls_a_sync_function_in_order(run_default: Runner) -> None:
    seen: list[int] = []
    run_default(stream.iter(range(3)).for_each(seen.append))
    assert seen == [0, 1, 2]


def test_for_each_awaits_an_async_function_one_at_a_time(run: Runner) -> None:
    log: list[str] = []

    async def f(x: int) -> None:
        log.append(f"start {x}")
        await asyncio.sleep(0)
        log.append(f"end {x}")

    run(stream.iter(range(2)).for_each(f))
    assert log == ["start 0", "end 0", "start 1", "end 1"]


def test_for_each_concurrent_calls_every_item(run: Runner) -> None:
    seen: list[int] = []

    async def f(x: int) -> None:
        await asyncio.sleep(0)
        seen.append(x)

    run(stream.iter(range(50)).for_each_concurrent(4, f))
    assert sorted(seen) == list(range(50))


def test_for_each_concurrent_with_a_sync_function(run_default: Runner) -> None:
    seen: list[int] = []
    run_default(stream.iter(range(5)).for_each_concurrent(2, seen.append))
    assert sorted(seen) == list(range(5))


def test_next_returns_items_then_raises_stop_async_iteration(run: Runner) -> None:
    async def main() -> None:
        s = stream.iter([1, 2])
        assert await s.next() == 1
        assert await anext(s) == 2
        with pytest.raises(StopAsyncIteration):
            await s.next()

    run(main())


def test_async_for_iterates_a_stream(run: Runner) -> None:
    async def main() -> list[int]:
        return [x async for x in stream.iter(range(3)).map(adouble)]

    assert run(main()) == [0, 2, 4]


def test_next_then_a_combinator_continues_where_it_stopped(run_default: Runner) -> None:
    async def main() -> list[int]:
        s = stream.iter(range(5))
        assert await s.next() == 0
        return await s.map(lambda x: -x).collect()

    assert run_default(main()) == [-1, -2, -3, -4]


def test_for_each_concurrent_raises_the_first_error(run: Runner) -> None:
    async def f(x: int) -> None:
        await asyncio.sleep(0)
        if x == 3:
            raise ValueError("bad item 3")

    with pytest.raises(ValueError, match="bad item 3"):
        run(stream.iter(range(10)).for_each_concurrent(2, f))


def test_a_function_error_propagates_with_its_traceback(run: Runner) -> None:
    def boom(x: int) -> int:
        if x == 2:
            raise KeyError(x)
        return x

    with pytest.raises(KeyError) as info:
        run(stream.iter(range(5)).map(boom).collect())
    assert info.traceback[-1].name == "boom"


def test_budget_lets_other_tasks_run_during_a_long_ready_stream(run: Runner) -> None:
    async def main() -> list[bool]:
        other_ran = False

        async def other() -> None:
            nonlocal other_ran
            other_ran = True

        t = asyncio.get_running_loop().create_task(other())
        seen = await stream.iter(range(1000)).map(lambda _: other_ran).collect()
        await t
        return seen

    seen = run(main())
    assert not seen[0]
    assert seen[-1]


# --- single use --------------------------------------------------------------------------------


def test_using_a_stream_after_a_combinator_took_it_raises(run_default: Runner) -> None:
    async def main() -> None:
        s = stream.iter(range(3))
        s.map(str)
        with pytest.raises(RuntimeError, match=r"consumed by \.map\(\)"):
            await s.collect()
        with pytest.raises(RuntimeError, match="keep using the stream it returned"):
            s.filter(bool)

    run_default(main())


def test_repr_names_the_source_and_the_consumer() -> None:
    s = stream.iter([1])
    assert "gokio.Stream" in repr(s)
    s.take(1)
    assert "consumed by .take()" in repr(s)


# --- argument errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "args"),
    [
        ("chunks", (0,)),
        ("chunks_timeout", (0, 1.0)),
        ("buffer_unordered", (0,)),
        ("buffered", (0,)),
        ("take", (-1,)),
        ("skip", (-1,)),
    ],
)
def test_counts_out_of_range_raise_value_error(method: str, args: tuple[Any, ...]) -> None:
    with pytest.raises(ValueError, match=rf"{method}\(\) needs n >= \d, got -?\d"):
        getattr(stream.iter([]), method)(*args)


@pytest.mark.parametrize("method", ["take", "skip", "chunks", "buffer_unordered", "buffered"])
def test_counts_of_the_wrong_type_raise_type_error(method: str) -> None:
    with pytest.raises(TypeError, match=rf"{method}\(\) takes an int, got str"):
        getattr(stream.iter([]), method)("3")


def test_a_bool_is_not_a_count() -> None:
    with pytest.raises(TypeError, match="takes an int, got bool"):
        stream.iter([]).take(True)


def test_for_each_concurrent_limit_below_one_raises(run_default: Runner) -> None:
    with pytest.raises(ValueError, match=r"for_each_concurrent\(\) needs n >= 1, got 0"):
        run_default(stream.iter([]).for_each_concurrent(0, print))


@pytest.mark.parametrize(
    ("method", "args"),
    [("throttle", (-1,)), ("timeout", (-0.5,)), ("chunks_timeout", (2, -1))],
)
def test_negative_seconds_raise_value_error(method: str, args: tuple[Any, ...]) -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        getattr(stream.iter([]), method)(*args)


def test_seconds_that_are_not_numbers_raise_type_error() -> None:
    with pytest.raises(TypeError, match="must be a number of seconds"):
        stream.iter([]).throttle("1")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "method",
    ["map", "then", "filter", "filter_map", "flat_map", "take_while", "skip_while"],
)
def test_non_callables_raise_type_error(method: str) -> None:
    with pytest.raises(
        TypeError, match=rf"{method}\(\) takes a function \(sync or async\), got int"
    ):
        getattr(stream.iter([]), method)(3)


def test_passing_a_coroutine_instead_of_a_function_explains_the_fix() -> None:
    coro = adouble(1)
    with pytest.raises(TypeError, match=r"pass the function itself \(\.map\(fetch\)\)"):
        stream.iter([]).map(coro)  # type: ignore[call-overload]
    # closed, so it does not warn "never awaited"
    assert inspect.getcoroutinestate(coro) == inspect.CORO_CLOSED


def test_terminals_reject_non_callables(run_default: Runner) -> None:
    async def main() -> None:
        with pytest.raises(TypeError, match=r"fold\(\) takes a function"):
            await stream.iter([]).fold(0, 1)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match=r"for_each\(\) takes a function"):
            await stream.iter([]).for_each(None)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match=r"for_each_concurrent\(\) takes a function"):
            await stream.iter([]).for_each_concurrent(2, "f")  # type: ignore[arg-type]

    run_default(main())


def test_stream_of_a_sync_iterable_points_to_iter() -> None:
    with pytest.raises(TypeError, match=r"use gokio\.stream\.iter\(\) for a sync iterable"):
        gokio.Stream([1, 2])  # type: ignore[arg-type]


def test_iter_of_a_non_iterable_raises_type_error() -> None:
    with pytest.raises(TypeError, match=r"stream\.iter\(\) takes an iterable, got int"):
        stream.iter(5)  # type: ignore[arg-type]


def test_from_channel_of_a_non_receiver_raises_type_error() -> None:
    with pytest.raises(TypeError, match=r"from_channel\(\) takes a channel receiver"):
        stream.from_channel(object())


def test_merge_zip_chain_of_a_non_stream_raise_type_error() -> None:
    with pytest.raises(TypeError, match=r"merge\(\) takes a Stream or an \(async\) iterable"):
        stream.merge(stream.empty(), 3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"zip\(\) takes a Stream"):
        stream.empty().zip(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"chain\(\) takes a Stream"):
        stream.empty().chain(3)  # type: ignore[arg-type]


def test_interval_with_a_zero_period_raises_value_error() -> None:
    with pytest.raises(ValueError, match="period must be positive"):
        stream.interval(0)


def test_buffer_unordered_of_plain_values_explains_how_to_make_awaitables(
    run_default: Runner,
) -> None:
    with pytest.raises(TypeError, match=r"items must be awaitables .* got int"):
        run_default(stream.iter(range(3)).buffer_unordered(2).collect())


def test_flat_map_returning_a_non_iterable_raises_type_error(run_default: Runner) -> None:
    with pytest.raises(TypeError, match=r"flat_map\(\) function must return an iterable"):
        run_default(stream.iter([1]).flat_map(lambda x: x).collect())
