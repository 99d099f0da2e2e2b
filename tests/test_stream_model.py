"""gokio.stream against a plain list model: hypothesis and seeded stress tests (issue 5).

* A stateful machine builds a random pipeline of order-keeping stages over a tracked
  async generator, then steps it with ``next()`` and closes it at random points, checking
  every item against the same pipeline applied to a list, and that closing (or running
  out) always closes the source and leaves no task behind.
* A property test checks ``buffer_unordered`` / ``for_each_concurrent`` keep every item.
* A seeded stress test runs concurrent stages with random delays and random early exits
  on the virtual clock, checking the bound on work in flight and clean teardown.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from gokio import stream
from tests._vclock import run_virtual
from tests.conftest import Runner

Stage = tuple[str, int]


async def aident(x: int) -> int:
    await asyncio.sleep(0)
    return x


async def aplus(x: int) -> int:
    await asyncio.sleep(0)
    return x + 1


def apply_stream(s: stream.Stream[Any], stage: Stage) -> stream.Stream[Any]:
    kind, k = stage
    if kind == "map":
        return s.map(lambda x: x * k)
    if kind == "amap":
        return s.map(aplus)
    if kind == "then":
        return s.then(lambda x: aident(x - k))
    if kind == "filter":
        return s.filter(lambda x: x % k != 0)
    if kind == "filter_map":
        return s.filter_map(lambda x: None if x % k == 0 else x + 1)
    if kind == "take":
        return s.take(k)
    if kind == "skip":
        return s.skip(k)
    if kind == "take_while":
        return s.take_while(lambda x: x < k)
    if kind == "skip_while":
        return s.skip_while(lambda x: x < k)
    if kind == "chunks":
        return s.chunks(k).map(sum)
    if kind == "enumerate":
        return s.enumerate().map(lambda p: p[0] * 1000 + p[1])
    if kind == "buffered":
        return s.map(lambda x: aident(x)).buffered(k)
    if kind == "flat_map":
        return s.flat_map(lambda x: [x] * k)
    if kind == "chain":
        return s.chain(range(k))
    raise AssertionError(kind)


def apply_model(xs: list[int], stage: Stage) -> list[int]:
    kind, k = stage
    if kind == "map":
        return [x * k for x in xs]
    if kind == "amap":
        return [x + 1 for x in xs]
    if kind == "then":
        return [x - k for x in xs]
    if kind == "filter":
        return [x for x in xs if x % k != 0]
    if kind == "filter_map":
        return [x + 1 for x in xs if x % k != 0]
    if kind == "take":
        return xs[:k]
    if kind == "skip":
        return xs[k:]
    if kind in ("take_while", "skip_while"):
        i = next((i for i, x in enumerate(xs) if not x < k), len(xs))
        return xs[:i] if kind == "take_while" else xs[i:]
    if kind == "chunks":
        return [sum(xs[i : i + k]) for i in range(0, len(xs), k)]
    if kind == "enumerate":
        return [i * 1000 + x for i, x in enumerate(xs)]
    if kind == "buffered":
        return xs
    if kind == "flat_map":
        return [x for x in xs for _ in range(k)]
    if kind == "chain":
        return xs + list(range(k))
    raise AssertionError(kind)


KINDS = [
    "map",
    "amap",
    "then",
    "filter",
    "filter_map",
    "take",
    "skip",
    "take_while",
    "skip_while",
    "chunks",
    "enumerate",
    "buffered",
    "flat_map",
    "chain",
]
stages = st.lists(st.tuples(st.sampled_from(KINDS), st.integers(1, 4)), max_size=5)


class Source:
    def __init__(self, n: int) -> None:
        self.n = n
        self.started = False
        self.closed = False

    async def gen(self) -> AsyncIterator[int]:
        self.started = True  # a generator closed before it started has no `finally` to run
        try:
            for i in range(self.n):
                await asyncio.sleep(0)
                yield i
        finally:
            self.closed = True


class StreamMachine(RuleBasedStateMachine):
    """Step a random pipeline and its list model side by side; close it at random."""

    def __init__(self) -> None:
        super().__init__()
        self.runner = asyncio.Runner()
        self.src = Source(0)
        self.stream: stream.Stream[Any] = stream.empty()
        self.model: list[int] = []
        self.ended = False

    @initialize(n=st.integers(0, 12), pipeline=stages)
    def build(self, n: int, pipeline: list[Stage]) -> None:
        self.src = Source(n)
        s = stream.iter(self.src.gen())
        model = list(range(n))
        for stage in pipeline:
            s = apply_stream(s, stage)
            model = apply_model(model, stage)
        self.stream, self.model = s, model

    @rule()
    def step(self) -> None:
        async def next_or_end() -> tuple[bool, Any]:
            try:
                return True, await self.stream.next()
            except StopAsyncIteration:
                return False, None

        got = self.runner.run(next_or_end())
        if self.ended or not self.model:
            assert got == (False, None)
            self.ended = True
        else:
            assert got == (True, self.model.pop(0))

    @rule()
    def close(self) -> None:
        self.runner.run(self.stream.aclose())
        self.ended = True
        self.model = []

    @invariant()
    def ended_streams_closed_their_source_and_tasks(self) -> None:
        if self.ended:
            assert self.src.closed or not self.src.started

            async def tasks() -> set[asyncio.Task[Any]]:
                return asyncio.all_tasks() - {asyncio.current_task()}

            assert self.runner.run(tasks()) == set()

    def teardown(self) -> None:
        try:
            self.runner.run(self.stream.aclose())
            assert self.src.closed or not self.src.started
        finally:
            self.runner.close()


StreamMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=12, deadline=None)
test_stream_machine = StreamMachine.TestCase


@settings(max_examples=40, deadline=None)
@given(pipeline=stages, n=st.integers(0, 30))
def test_collect_matches_the_list_model(pipeline: list[Stage], n: int) -> None:
    async def main() -> list[Any]:
        s = stream.iter(range(n))
        for stage in pipeline:
            s = apply_stream(s, stage)
        return await s.collect()

    model = list(range(n))
    for stage in pipeline:
        model = apply_model(model, stage)
    assert asyncio.run(main()) == model


@settings(max_examples=30, deadline=None)
@given(
    delays=st.lists(st.integers(0, 5), max_size=30),
    limit=st.integers(1, 6),
)
def test_buffer_unordered_and_buffered_keep_every_item(delays: list[int], limit: int) -> None:
    async def work(i: int, d: int) -> int:
        await asyncio.sleep(d)
        return i

    async def main() -> tuple[list[int], list[int], list[int]]:
        items = list(enumerate(delays))
        un = await stream.iter(items).map(lambda p: work(*p)).buffer_unordered(limit).collect()
        ordered = await stream.iter(items).map(lambda p: work(*p)).buffered(limit).collect()
        seen: list[int] = []

        async def f(p: tuple[int, int]) -> None:
            seen.append(await work(*p))

        await stream.iter(items).for_each_concurrent(limit, f)
        return un, ordered, seen

    un, ordered, seen = run_virtual(main())
    assert sorted(un) == list(range(len(delays)))
    assert ordered == list(range(len(delays)))
    assert sorted(seen) == list(range(len(delays)))


# --- seeded stress --------------------------------------------------------------------------------


class Gauge:
    def __init__(self) -> None:
        self.running = 0
        self.max = 0
        self.cancelled = 0

    async def work(self, x: int, delay: float) -> int:
        self.running += 1
        self.max = max(self.max, self.running)
        try:
            await asyncio.sleep(delay)
            return x
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.running -= 1


def _stress_once(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randint(1, 5)
    count = rng.randint(0, 40)
    delays = [rng.choice([0, 0, 0.5, 1, 3]) for _ in range(count)]
    ordered = rng.random() < 0.5
    exit_kind = rng.choice(["none", "take", "cancel", "break"])
    cut = rng.randint(0, count)
    src = Source(count)
    g = Gauge()

    async def main() -> list[int]:
        s = stream.iter(src.gen()).map(lambda i: g.work(i, delays[i]))
        s = s.buffered(n) if ordered else s.buffer_unordered(n)
        if rng.random() < 0.3:
            s = s.merge(stream.iter([-1, -2]).throttle(rng.choice([0, 0.7])))
        got: list[int] = []
        if exit_kind == "take":
            got = await s.take(cut).collect()
        elif exit_kind == "break":
            async with s:
                async for x in s:
                    if len(got) >= cut:
                        break
                    got.append(x)
        elif exit_kind == "cancel":
            task = asyncio.get_running_loop().create_task(s.collect())
            await asyncio.sleep(rng.choice([0, 0.25, 1, 2.5]))
            task.cancel()
            try:
                got = await task
            except asyncio.CancelledError:
                got = []
        else:
            got = await s.collect()
        assert asyncio.all_tasks() == {asyncio.current_task()}, f"seed={seed}"
        return got

    got = run_virtual(main())
    items = [x for x in got if x >= 0]
    assert g.max <= n, f"seed={seed}: {g.max} in flight with n={n}"
    assert g.running == 0, f"seed={seed}: work left running"
    assert src.closed or not src.started, f"seed={seed}: source not closed"
    assert len(set(items)) == len(items), f"seed={seed}: duplicated items {items}"
    assert set(items) <= set(range(count)), f"seed={seed}"
    if ordered:
        assert items == sorted(items), f"seed={seed}: buffered lost the input order"
    if exit_kind == "none":
        assert sorted(items) == list(range(count)), f"seed={seed}: items lost"


@pytest.mark.parametrize("block", range(4))
def test_stress_concurrent_stages_with_random_early_exits(block: int) -> None:
    for seed in range(block * 50, block * 50 + 50):
        _stress_once(seed)


def test_stress_helpers_run_on_each_loop(run: Runner) -> None:
    """The concurrent stages behave the same on every loop (a short mixed pipeline)."""

    async def main() -> list[int]:
        g = Gauge()
        s = stream.iter(range(30)).map(lambda i: g.work(i, 0)).buffer_unordered(3)
        out = await s.merge(stream.iter([100, 101])).chunks(4).flat_map(lambda c: c).collect()
        assert g.max <= 3
        return sorted(out)

    assert run(main()) == [*range(30), 100, 101]
