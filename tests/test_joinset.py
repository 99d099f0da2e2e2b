"""JoinSet and AbortHandle: every method of the contract (issue 2, item 4)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import gokio
from tests.conftest import Runner


class BoomError(Exception):
    pass


async def _after(steps: int, v: int) -> int:
    for _ in range(steps):
        await asyncio.sleep(0)
    return v


async def _forever(log: list[str], tag: str) -> None:
    try:
        await asyncio.Event().wait()
    finally:
        log.append(tag)


def test_join_next_returns_results_in_completion_order(run: Runner) -> None:
    async def main() -> None:
        js: gokio.JoinSet[int] = gokio.JoinSet()
        js.spawn(_after(6, 3))
        js.spawn(_after(2, 1))
        js.spawn(_after(4, 2))
        assert [await js.join_next() for _ in range(3)] == [1, 2, 3]

    run(main())


def test_join_next_on_an_empty_set_returns_none(run: Runner) -> None:
    async def main() -> None:
        js: gokio.JoinSet[int] = gokio.JoinSet()
        assert await js.join_next() is None
        js.spawn(_after(0, 1))
        assert await js.join_next() == 1
        assert await js.join_next() is None

    run(main())


def test_join_next_reraises_the_task_exception(run: Runner) -> None:
    async def fail() -> int:
        raise BoomError("bad")

    async def main() -> None:
        js: gokio.JoinSet[int] = gokio.JoinSet()
        js.spawn(fail())
        with pytest.raises(BoomError, match="bad"):
            await js.join_next()
        assert len(js) == 0

    run(main())


def test_join_next_with_id_reports_the_abort_handle_id(run: Runner) -> None:
    async def main() -> None:
        js: gokio.JoinSet[int] = gokio.JoinSet()
        a = js.spawn(_after(1, 10))
        b = js.spawn(_after(3, 20))
        assert await js.join_next_with_id() == (a.id, 10)
        assert await js.join_next_with_id() == (b.id, 20)
        assert await js.join_next_with_id() is None
        assert a.id != b.id

    run(main())


def test_join_all_returns_results_in_completion_order(run: Runner) -> None:
    async def main() -> None:
        js: gokio.JoinSet[int] = gokio.JoinSet()
        for steps, v in [(5, 1), (1, 2), (3, 3)]:
            js.spawn(_after(steps, v))
        assert await js.join_all() == [2, 3, 1]
        assert len(js) == 0

    run(main())


def test_join_all_aborts_the_rest_on_first_failure_and_raises_it(run: Runner) -> None:
    log: list[str] = []

    async def fail() -> int:
        await asyncio.sleep(0)
        raise BoomError("first")

    async def main() -> None:
        js: gokio.JoinSet[None] = gokio.JoinSet()
        js.spawn(_forever(log, "a"))
        js.spawn(fail())  # type: ignore[arg-type]
        js.spawn(_forever(log, "b"))
        with pytest.raises(BoomError, match="first"):
            await js.join_all()
        assert sorted(log) == ["a", "b"]  # aborted and awaited before it raised
        assert len(js) == 0

    run(main())


def test_abort_all_makes_every_task_report_task_aborted(run: Runner) -> None:
    async def main() -> None:
        log: list[str] = []
        js: gokio.JoinSet[None] = gokio.JoinSet()
        js.spawn(_forever(log, "a"))
        js.spawn(_forever(log, "b"))
        await asyncio.sleep(0)
        js.abort_all()
        assert len(js) == 2  # they stay until joined
        for _ in range(2):
            with pytest.raises(gokio.TaskAborted):
                await js.join_next()
        assert sorted(log) == ["a", "b"]
        assert not js

    run(main())


def test_shutdown_aborts_and_waits_for_every_task(run: Runner) -> None:
    async def fail() -> None:
        raise BoomError("discarded")

    async def main() -> None:
        log: list[str] = []
        js: gokio.JoinSet[None] = gokio.JoinSet()
        js.spawn(_forever(log, "a"))
        js.spawn(fail())
        js.spawn(_forever(log, "b"))
        await asyncio.sleep(0)
        await js.shutdown()
        assert sorted(log) == ["a", "b"]
        assert len(js) == 0

    run(main())


def test_len_and_bool_count_running_and_unjoined_tasks(run: Runner) -> None:
    async def main() -> None:
        js: gokio.JoinSet[int] = gokio.JoinSet()
        assert len(js) == 0
        assert not js
        js.spawn(_after(0, 1))
        js.spawn(_after(5, 2))
        assert len(js) == 2
        assert js
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert len(js) == 2  # one finished but not joined yet
        await js.join_next()
        assert len(js) == 1
        await js.join_next()
        assert len(js) == 0
        assert not js

    run(main())


def test_async_for_yields_every_result(run: Runner) -> None:
    async def main() -> None:
        js: gokio.JoinSet[int] = gokio.JoinSet()
        for i in range(5):
            js.spawn(_after(5 - i, i))
        got = [v async for v in js]
        assert got == [4, 3, 2, 1, 0]

    run(main())


def test_async_with_aborts_and_awaits_what_is_left(run: Runner) -> None:
    log: list[str] = []

    async def main() -> None:
        async with gokio.JoinSet[None]() as js:
            js.spawn(_forever(log, "a"))
            js.spawn(_forever(log, "b"))
            await asyncio.sleep(0)
        assert sorted(log) == ["a", "b"]
        assert len(js) == 0

    run(main())


def test_async_with_cleans_up_when_the_block_raises(run: Runner) -> None:
    log: list[str] = []

    async def main() -> None:
        async def body() -> None:
            async with gokio.JoinSet[None]() as js:
                js.spawn(_forever(log, "a"))
                await asyncio.sleep(0)
                raise BoomError

        with pytest.raises(BoomError):
            await body()
        assert log == ["a"]

    run(main())


def test_nested_sets_abort_their_children_too(run: Runner) -> None:
    log: list[str] = []

    async def inner() -> None:
        async with gokio.JoinSet[None]() as js:
            js.spawn(_forever(log, "grandchild-1"))
            js.spawn(_forever(log, "grandchild-2"))
            await asyncio.Event().wait()

    async def main() -> None:
        async with gokio.JoinSet[None]() as outer:
            outer.spawn(inner())
            outer.spawn(_forever(log, "child"))
            for _ in range(3):
                await asyncio.sleep(0)
        assert sorted(log) == ["child", "grandchild-1", "grandchild-2"]

    run(main())


def test_detach_all_empties_the_set_and_leaves_tasks_running(run: Runner) -> None:
    async def main() -> None:
        ev = asyncio.Event()
        finished: list[int] = []

        async def worker(i: int) -> None:
            await ev.wait()
            finished.append(i)

        js: gokio.JoinSet[None] = gokio.JoinSet()
        handles = [js.spawn(worker(i)) for i in range(3)]
        js.detach_all()
        assert len(js) == 0
        assert not js
        ev.set()
        for _ in range(3):
            await asyncio.sleep(0)
        assert sorted(finished) == [0, 1, 2]
        assert all(h.is_finished() for h in handles)

    run(main())


def test_spawn_blocking_member_is_joined(run: Runner) -> None:
    def work(x: int) -> tuple[int, str]:
        return x + 1, threading.current_thread().name

    async def main() -> None:
        js: gokio.JoinSet[tuple[int, str]] = gokio.JoinSet()
        js.spawn_blocking(work, 1)
        value, thread = await js.join_next()  # type: ignore[misc]
        assert value == 2
        assert thread.startswith("gokio-blocking")

    run(main())


def test_abort_handle_aborts_one_task(run: Runner) -> None:
    async def main() -> None:
        log: list[str] = []
        js: gokio.JoinSet[None] = gokio.JoinSet()
        victim = js.spawn(_forever(log, "victim"))
        other = js.spawn(_after(3, None))  # type: ignore[arg-type]
        await asyncio.sleep(0)
        assert not victim.is_finished()
        victim.abort()
        with pytest.raises(gokio.TaskAborted):
            await js.join_next()
        assert victim.is_finished()
        assert log == ["victim"]
        assert await js.join_next_with_id() == (other.id, None)
        assert other.is_finished()
        assert f"id={victim.id}" in repr(victim)

    run(main())


def test_join_next_cancelled_loses_no_result(run: Runner) -> None:
    async def main() -> None:
        js: gokio.JoinSet[int] = gokio.JoinSet()
        ev = asyncio.Event()

        async def worker() -> int:
            await ev.wait()
            return 9

        js.spawn(worker())
        waiter = asyncio.ensure_future(js.join_next())
        await asyncio.sleep(0)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        ev.set()
        assert await js.join_next() == 9

    run(main())


# --- a JoinSet against a plain model ----------------------------------------------------


class JoinSetMachine(RuleBasedStateMachine):
    """Spawn, finish, fail and abort tasks in any order; join_next reports each exactly
    once, in completion order, with its own outcome."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.js: gokio.JoinSet[int] = gokio.JoinSet()
        self.gates: dict[int, asyncio.Future[int]] = {}  # running: id -> its gate
        self.aborts: dict[int, gokio.AbortHandle] = {}
        self.finished: list[tuple[int, str, int]] = []  # model: (id, kind, value)
        self.next_value = 0

    def _settle(self) -> None:
        for _ in range(3):
            self.loop.run_until_complete(asyncio.sleep(0))

    @rule()
    def spawn(self) -> None:
        async def spawn_one() -> None:
            gate: asyncio.Future[int] = self.loop.create_future()
            ah = self.js.spawn(_gate(gate))
            self.gates[ah.id] = gate
            self.aborts[ah.id] = ah

        self.loop.run_until_complete(spawn_one())
        self._settle()

    @precondition(lambda self: bool(self.gates))
    @rule(data=st.data(), fail=st.booleans())
    def finish(self, data: st.DataObject, fail: bool) -> None:
        tid = data.draw(st.sampled_from(sorted(self.gates)))
        gate = self.gates.pop(tid)
        self.next_value += 1
        if fail:
            gate.set_exception(BoomError(str(self.next_value)))
            self.finished.append((tid, "error", self.next_value))
        else:
            gate.set_result(self.next_value)
            self.finished.append((tid, "value", self.next_value))
        self._settle()

    @precondition(lambda self: bool(self.gates))
    @rule(data=st.data())
    def abort(self, data: st.DataObject) -> None:
        tid = data.draw(st.sampled_from(sorted(self.gates)))
        del self.gates[tid]
        self.aborts[tid].abort()
        self.finished.append((tid, "aborted", 0))
        self._settle()

    @precondition(lambda self: bool(self.finished) or not self.gates)
    @rule()
    def join_next(self) -> None:
        async def join() -> tuple[str, Any]:
            try:
                got = await self.js.join_next_with_id()
            except gokio.TaskAborted:
                return "aborted", 0
            except BoomError as e:
                return "error", int(str(e))
            return ("none", None) if got is None else ("value", got)

        kind, got = self.loop.run_until_complete(join())
        if not self.finished:
            assert (kind, got) == ("none", None)
            return
        tid, want_kind, want = self.finished.pop(0)
        assert kind == want_kind
        if kind == "value":
            assert got == (tid, want)
        elif kind == "error":
            assert got == want
        assert self.aborts.pop(tid).is_finished()

    @invariant()
    def length_matches_the_model(self) -> None:
        assert len(self.js) == len(self.gates) + len(self.finished)
        assert bool(self.js) == bool(len(self.js))

    def teardown(self) -> None:
        self.loop.run_until_complete(self.js.shutdown())
        assert len(self.js) == 0
        self.loop.close()


async def _gate(gate: asyncio.Future[int]) -> int:
    return await gate


TestJoinSetModel = JoinSetMachine.TestCase
TestJoinSetModel.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)
