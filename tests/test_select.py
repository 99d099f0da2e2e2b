"""`gokio.select`: exactly one case commits."""

from __future__ import annotations

import asyncio
import random
import threading
from typing import Any

import pytest

import gokio
from gokio import Closed, Empty, Full, Selected, mpsc, select
from gokio._park import WAITS
from tests.conftest import Runner


async def settle(n: int = 5) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


async def _select(*cases: Any, **kw: Any) -> Selected | None:
    return await select(*cases, **kw)


def test_ready_case_wins_with_its_value(run: Runner) -> None:
    async def main() -> None:
        a: gokio.Chan[int] = gokio.chan(1)
        b: gokio.Chan[str] = gokio.chan(1)
        b.try_send("hi")
        assert await select(a.recv(), b.recv()) == Selected(1, "hi")

    run(main())


def test_parked_select_is_woken_by_a_sender(run: Runner) -> None:
    async def main() -> None:
        a: gokio.Chan[int] = gokio.chan()
        b: gokio.Chan[int] = gokio.chan()
        t = asyncio.create_task(_select(a.recv(), b.recv()))
        await settle()
        b.try_send(5)
        assert await t == Selected(1, 5)
        with pytest.raises(Full):  # the select left no receiver behind on `a`
            a.try_send(1)

    run(main())


def test_default_returns_none_when_nothing_is_ready(run: Runner) -> None:
    async def main() -> None:
        a: gokio.Chan[int] = gokio.chan()
        assert await select(a.recv(), a.send(1), default=True) is None
        with pytest.raises(Empty):
            a.try_recv()

    run(main())


def test_no_cases_with_default_returns_none(run: Runner) -> None:
    async def main() -> None:
        assert await select(default=True) is None

    run(main())


def test_no_cases_without_default_is_a_value_error(run: Runner) -> None:
    async def main() -> None:
        with pytest.raises(ValueError, match="at least one case"):
            await select()

    run(main())


def test_non_awaitable_case_is_a_type_error_naming_its_position(run: Runner) -> None:
    async def main() -> None:
        a: gokio.Chan[int] = gokio.chan()
        with pytest.raises(TypeError, match="argument 2 is not awaitable: got int"):
            await select(a.recv(), asyncio.sleep(0), 42)  # the coroutine is closed, no warning

    run(main())


def test_biased_picks_the_first_ready_case(run: Runner) -> None:
    async def main() -> None:
        a: gokio.Chan[int] = gokio.chan(100)
        b: gokio.Chan[int] = gokio.chan(100)
        for i in range(50):
            a.try_send(i)
            b.try_send(i)
        for _ in range(50):
            r = await select(a.recv(), b.recv(), biased=True)
            assert r is not None
            assert r.index == 0
        assert len(b) == 50

    run(main())


def test_two_always_ready_cases_are_chosen_fairly(run_default: Runner) -> None:
    async def main() -> None:
        a: gokio.Chan[int] = gokio.chan(1)
        b: gokio.Chan[int] = gokio.chan(1)
        a.try_send(0)
        b.try_send(1)
        wins = [0, 0]
        for _ in range(10_000):
            r = await select(a.recv(), b.recv())
            assert r is not None
            wins[r.index] += 1
            (a, b)[r.index].try_send(r.index)
        assert 4000 <= wins[0] <= 6000, wins
        assert 4000 <= wins[1] <= 6000, wins

    run_default(main())


def test_only_one_of_two_ready_sends_happens(run: Runner) -> None:
    async def main() -> None:
        for _ in range(50):
            a: gokio.Chan[int] = gokio.chan(1)
            b: gokio.Chan[int] = gokio.chan(1)
            r = await select(a.send(1), b.send(2))
            assert r is not None
            assert (len(a), len(b)) == ((1, 0) if r.index == 0 else (0, 1))

    run(main())


def test_only_one_of_two_ready_receives_consumes(run: Runner) -> None:
    async def main() -> None:
        a: gokio.Chan[int] = gokio.chan(1)
        b: gokio.Chan[int] = gokio.chan(1)
        a.try_send(1)
        b.try_send(2)
        await select(a.recv(), b.recv())
        assert len(a) + len(b) == 1

    run(main())


def test_recv_on_a_closed_channel_raises_closed(run: Runner) -> None:
    async def main() -> None:
        a: gokio.Chan[int] = gokio.chan()
        b: gokio.Chan[int] = gokio.chan()
        a.close()
        with pytest.raises(Closed):
            await select(a.recv(), b.recv())

    run(main())


def test_recv_ok_turns_closing_into_a_case(run: Runner) -> None:
    async def main() -> None:
        a: gokio.Chan[int] = gokio.chan()
        b: gokio.Chan[int] = gokio.chan()
        t = asyncio.create_task(_select(a.recv_ok(), b.recv()))
        await settle()
        a.close()
        assert await t == Selected(0, (None, False))

    run(main())


def test_parked_send_case_gets_closed_with_its_item(run: Runner) -> None:
    async def main() -> None:
        a: gokio.Chan[int] = gokio.chan()
        b: gokio.Chan[int] = gokio.chan()
        t = asyncio.create_task(_select(a.send(7), b.recv()))
        await settle()
        a.close()
        with pytest.raises(Closed) as e:
            await t
        assert e.value.value == 7

    run(main())


def test_a_coroutine_case_can_win(run: Runner) -> None:
    async def main() -> None:
        a: gokio.Chan[int] = gokio.chan()
        assert await select(a.recv(), asyncio.sleep(0, "slept")) == Selected(1, "slept")
        with pytest.raises(Full):
            a.try_send(1)

    run(main())


def test_a_losing_coroutine_is_cancelled_and_awaited(run: Runner) -> None:
    async def main() -> None:
        a: gokio.Chan[int] = gokio.chan(1)
        cleaned = []

        async def slow() -> None:
            try:
                await asyncio.sleep(3600)
            finally:
                cleaned.append(True)

        async def feed() -> None:
            await settle()
            a.try_send(1)

        f = asyncio.create_task(feed())
        assert await select(a.recv(), slow()) == Selected(0, 1)
        assert cleaned == [True]
        await f

    run(main())


def test_a_losing_task_is_left_running(run: Runner) -> None:
    async def main() -> None:
        a: gokio.Chan[int] = gokio.chan(1)
        gate = asyncio.Event()

        async def work() -> str:
            await gate.wait()
            return "done"

        t = asyncio.create_task(work())
        h = gokio.spawn(work())
        a.try_send(1)
        assert await select(t, h, a.recv()) == Selected(2, 1)
        assert not t.done()
        gate.set()
        assert await t == "done"
        assert await h == "done"

    run(main())


def test_a_join_handle_case_can_win(run: Runner) -> None:
    async def main() -> None:
        a: gokio.Chan[int] = gokio.chan()

        async def work() -> int:
            await settle()
            return 3

        assert await select(a.recv(), gokio.spawn(work())) == Selected(1, 3)

    run(main())


def test_a_done_future_is_ready(run: Runner) -> None:
    async def main() -> None:
        fut = asyncio.get_running_loop().create_future()
        fut.set_result("x")
        a: gokio.Chan[int] = gokio.chan()
        assert await select(a.recv(), fut) == Selected(1, "x")

    run(main())


def test_an_exception_from_a_coroutine_case_propagates(run: Runner) -> None:
    async def main() -> None:
        a: gokio.Chan[int] = gokio.chan()

        async def boom() -> None:
            raise KeyError("boom")

        with pytest.raises(KeyError):
            await select(a.recv(), boom())
        with pytest.raises(Full):
            a.try_send(1)

    run(main())


def test_cancelled_select_takes_no_effect(run: Runner) -> None:
    async def main() -> None:
        a: gokio.Chan[int] = gokio.chan()
        b: gokio.Chan[int] = gokio.chan(1)
        b.try_send(0)  # full: the send case parks
        t = asyncio.create_task(_select(a.recv(), b.send(9)))
        await settle()
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t
        with pytest.raises(Full):
            a.try_send(1)  # no receiver left on `a`
        assert b.try_recv() == 0
        with pytest.raises(Empty):
            b.try_recv()  # the 9 was never sent

    run(main())


def test_select_fired_before_its_cancel_lands_returns_the_case(run: Runner) -> None:
    async def main() -> None:
        a: gokio.Chan[int] = gokio.chan()
        out: list[Any] = []

        async def sel() -> None:
            out.append(await select(a.recv(), asyncio.sleep(3600)))
            await asyncio.sleep(0)

        t = asyncio.create_task(sel())
        await settle()
        a.try_send(4)  # hands the item over: the select has taken effect
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t
        assert out == [Selected(0, 4)]

    run(main())


def test_select_with_send_and_recv_on_one_channel_does_not_match_itself(run: Runner) -> None:
    async def main() -> None:
        a: gokio.Chan[int] = gokio.chan()
        assert await select(a.send(1), a.recv(), default=True) is None
        t = asyncio.create_task(_select(a.send(1), a.recv()))
        await settle()
        assert not t.done()
        assert a.try_recv() == 1
        assert await t == Selected(0, None)

    run(main())


def test_mpsc_cases(run: Runner) -> None:
    async def main() -> None:
        tx: mpsc.Sender[int]
        rx: mpsc.Receiver[int]
        tx, rx = mpsc.channel(1)
        tx.try_send(1)
        c: gokio.Chan[int] = gokio.chan()
        assert await select(c.recv(), rx.recv()) == Selected(1, 1)
        assert await select(c.recv(), tx.send(2)) == Selected(1, None)
        assert await select(rx.recv_many(8), c.recv()) == Selected(0, [2])

    run(main())


def test_after_works_as_a_timeout_case(vrun: Runner) -> None:
    async def main() -> None:
        a: gokio.Chan[int] = gokio.chan()
        r = await select(a.recv(), gokio.after(10).recv())
        assert r is not None
        assert r.index == 1

    vrun(main())


def test_parked_select_is_visible_in_waits(run: Runner) -> None:
    async def main() -> None:
        a: gokio.Chan[int] = gokio.chan()
        t = asyncio.create_task(_select(a.recv()))
        await settle()
        assert WAITS[t].kind == "select"
        assert a in WAITS[t].obj
        a.try_send(1)
        await t

    run(main())


def test_ready_selects_honour_the_budget(run: Runner) -> None:
    async def main() -> None:
        a: gokio.Chan[int] = gokio.chan(1)
        ticks = 0
        stop = False

        async def other() -> None:
            nonlocal ticks
            while not stop:
                ticks += 1
                await asyncio.sleep(0)

        t = asyncio.create_task(other())
        await asyncio.sleep(0)
        seen, since = ticks, 0
        worst = 0
        for _ in range(1000):
            await select(a.send(1), default=True)
            await select(a.recv(), default=True)
            since += 2
            if ticks != seen:
                worst = max(worst, since)
                seen, since = ticks, 0
        stop = True
        await t
        assert 0 < worst <= 128

    run(main())


def test_opposite_order_selects_across_threads_do_not_deadlock(run_default: Runner) -> None:
    """Selects locking the same two channels from two threads and a loop, in either order."""
    a: gokio.Chan[int] = gokio.chan()
    b: gokio.Chan[int] = gokio.chan()
    n = 2000
    got: list[int] = []

    def thread_sender() -> None:
        rnd = random.Random(1)
        for i in range(n):
            (a if rnd.random() < 0.5 else b).blocking_send(i)

    async def main() -> None:
        async def recv_side() -> None:
            for _ in range(n):
                r = await select(a.recv(), b.recv())
                assert r is not None
                got.append(r.value)

        th = threading.Thread(target=thread_sender)
        th.start()
        await recv_side()
        await asyncio.to_thread(th.join)

    run_default(main())
    assert sorted(got) == list(range(n))
