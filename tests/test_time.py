"""Time: sleep, sleep_until, Instant, timeout, timeout_at (issue 2, items 5 and 7).

Every test that waits runs on the virtual clock (``vrun``): the sleeps cost no real time.
"""

from __future__ import annotations

import asyncio
import inspect
import math

import pytest

import gokio
from tests.conftest import Runner
from tests.test_park import Slot


def _now() -> float:
    return asyncio.get_running_loop().time()


def _task() -> asyncio.Task[object]:
    t = asyncio.current_task()
    assert t is not None
    return t


async def _no_stray_cancellation() -> None:
    """The task is not left with a pending cancellation."""
    assert _task().cancelling() == 0
    await asyncio.sleep(0)  # would raise CancelledError if one were pending
    await asyncio.sleep(0)


# --- sleep and sleep_until -------------------------------------------------------------


def test_sleep_waits_the_given_seconds(vrun: Runner) -> None:
    async def main() -> None:
        start = _now()
        await gokio.sleep(5)
        assert _now() - start == pytest.approx(5)
        await gokio.sleep(0.25)
        assert _now() - start == pytest.approx(5.25)

    vrun(main())


def test_sleep_zero_yields_to_other_tasks(run: Runner) -> None:
    async def main() -> None:
        ran: list[bool] = []

        async def other() -> None:
            ran.append(True)

        t = asyncio.ensure_future(other())
        await gokio.sleep(0)
        assert ran == [True]
        await t

    run(main())


@pytest.mark.parametrize("bad", [-1, -0.001, -math.inf])
def test_sleep_negative_is_a_value_error(run: Runner, bad: float) -> None:
    async def main() -> None:
        with pytest.raises(ValueError, match="must not be negative"):
            await gokio.sleep(bad)

    run(main())


def test_sleep_nan_is_a_value_error(run: Runner) -> None:
    async def main() -> None:
        with pytest.raises(ValueError, match="got NaN"):
            await gokio.sleep(math.nan)

    run(main())


@pytest.mark.parametrize("bad", ["1", None, True, [1]])
def test_sleep_non_number_is_a_type_error(run: Runner, bad: object) -> None:
    async def main() -> None:
        with pytest.raises(TypeError, match="must be a number of seconds"):
            await gokio.sleep(bad)  # type: ignore[arg-type]

    run(main())


def test_sleep_until_waits_until_the_deadline(vrun: Runner) -> None:
    async def main() -> None:
        deadline = gokio.Instant.now() + 3
        await gokio.sleep_until(deadline)
        assert gokio.Instant.now() == deadline

    vrun(main())


def test_sleep_until_a_past_deadline_returns_at_once(vrun: Runner) -> None:
    async def main() -> None:
        await gokio.sleep(1)
        start = _now()
        await gokio.sleep_until(gokio.Instant.now() - 0.5)
        assert _now() == start

    vrun(main())


def test_sleep_until_of_a_non_instant_is_a_type_error(run: Runner) -> None:
    async def main() -> None:
        with pytest.raises(TypeError, match=r"takes a gokio\.Instant, got float"):
            await gokio.sleep_until(5.0)  # type: ignore[arg-type]

    run(main())


# --- Instant -----------------------------------------------------------------------------


def test_instant_now_reads_the_loop_clock(vrun: Runner) -> None:
    async def main() -> None:
        await gokio.sleep(7)
        assert gokio.Instant.now().seconds == _now()

    vrun(main())


def test_instant_arithmetic() -> None:
    a = gokio.Instant(10.0)
    b = a + 2.5
    assert b.seconds == 12.5
    assert (2.5 + a) == b
    assert b - a == 2.5
    assert (b - 2.5) == a
    assert isinstance(b - 1, gokio.Instant)


def test_instant_comparisons() -> None:
    a, b = gokio.Instant(1.0), gokio.Instant(2.0)
    assert a < b
    assert a <= b
    assert b > a
    assert b >= a
    assert a == gokio.Instant(1.0)
    assert a != b
    assert a != 1.0
    assert hash(a) == hash(gokio.Instant(1.0))
    assert sorted([b, a]) == [a, b]


def test_instant_elapsed(vrun: Runner) -> None:
    async def main() -> None:
        start = gokio.Instant.now()
        await gokio.sleep(4)
        assert start.elapsed() == pytest.approx(4)
        assert (gokio.Instant.now() + 1).elapsed() == pytest.approx(-1)

    vrun(main())


def test_instant_with_a_non_number_is_not_supported() -> None:
    a = gokio.Instant(1.0)
    with pytest.raises(TypeError):
        a + "1"  # type: ignore[operator]
    with pytest.raises(TypeError):
        a - "1"  # type: ignore[operator]


def test_instant_outside_a_loop_uses_the_monotonic_clock() -> None:
    import time

    before = time.monotonic()
    now = gokio.Instant.now().seconds
    assert before <= now <= time.monotonic()
    assert "Instant(" in repr(gokio.Instant(1.0))


# --- timeout --------------------------------------------------------------------------------


def test_timeout_returns_the_result_of_work_that_completes(vrun: Runner) -> None:
    async def work() -> str:
        await gokio.sleep(1)
        return "done"

    async def main() -> None:
        assert await gokio.timeout(2, work()) == "done"
        await _no_stray_cancellation()

    vrun(main())


def test_timeout_raises_elapsed_when_the_time_runs_out(vrun: Runner) -> None:
    async def main() -> None:
        start = _now()
        with pytest.raises(gokio.Elapsed, match="timed out after 2 s"):
            await gokio.timeout(2, gokio.sleep(10))
        assert _now() - start == pytest.approx(2)
        await _no_stray_cancellation()

    vrun(main())


def test_elapsed_is_a_timeout_error(vrun: Runner) -> None:
    async def main() -> None:
        assert issubclass(gokio.Elapsed, TimeoutError)
        with pytest.raises(TimeoutError) as info:
            await gokio.timeout(1, gokio.sleep(5))
        assert type(info.value) is gokio.Elapsed

    vrun(main())


def test_timeout_as_async_with_cancels_the_block(vrun: Runner) -> None:
    async def main() -> None:
        reached: list[str] = []
        t = gokio.timeout(1)

        async def block() -> None:
            async with t:
                await gokio.sleep(5)
                reached.append("after sleep")  # pragma: no cover - must not run

        with pytest.raises(gokio.Elapsed):
            await block()
        assert reached == []
        assert t.expired()
        await _no_stray_cancellation()

    vrun(main())


def test_timeout_block_that_finishes_in_time_leaves_no_pending_cancel(vrun: Runner) -> None:
    async def main() -> None:
        async with gokio.timeout(5) as t:
            await gokio.sleep(1)
        assert not t.expired()
        await _no_stray_cancellation()
        await gokio.sleep(10)  # the timer of the finished block never fires into us
        await _no_stray_cancellation()

    vrun(main())


def test_timeout_cancels_and_awaits_the_inner_work_before_raising(vrun: Runner) -> None:
    events: list[tuple[str, float]] = []

    async def work() -> None:
        try:
            await gokio.sleep(10)
        finally:
            await gokio.sleep(0.5)  # a cleanup that takes time
            events.append(("inner finally", _now()))

    async def main() -> None:
        with pytest.raises(gokio.Elapsed):
            await gokio.timeout(1, work())
        events.append(("elapsed raised", _now()))

    vrun(main())
    assert [e for e, _ in events] == ["inner finally", "elapsed raised"]
    assert events[0][1] == pytest.approx(1.5)


def test_outside_cancellation_is_not_turned_into_elapsed(vrun: Runner) -> None:
    async def victim() -> None:
        async with gokio.timeout(10):
            await gokio.sleep(5)

    async def main() -> None:
        t = asyncio.ensure_future(victim())
        await gokio.sleep(1)
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t
        assert t.cancelled()

    vrun(main())


def test_outside_cancellation_at_the_deadline_is_not_swallowed(run: Runner) -> None:
    """The deadline and an outside cancel land in the same loop iteration."""

    async def victim() -> None:
        loop = asyncio.get_running_loop()
        async with gokio.timeout(0):
            loop.call_soon(_task().cancel)
            await asyncio.Event().wait()

    async def main() -> None:
        t = asyncio.ensure_future(victim())
        with pytest.raises(asyncio.CancelledError):
            await t
        assert t.cancelled()

    run(main())


def test_outside_cancellation_of_await_timeout_is_not_swallowed(vrun: Runner) -> None:
    async def main() -> None:
        t = asyncio.ensure_future(gokio.timeout(10, gokio.sleep(5)))
        await gokio.sleep(1)
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t

    vrun(main())


def test_timeout_at_uses_an_absolute_deadline(vrun: Runner) -> None:
    async def main() -> None:
        deadline = gokio.Instant.now() + 3
        with pytest.raises(gokio.Elapsed, match="deadline"):
            await gokio.timeout_at(deadline, gokio.sleep(10))
        assert gokio.Instant.now() == deadline
        assert await gokio.timeout_at(gokio.Instant.now() + 3, _after(1, "ok")) == "ok"
        async with gokio.timeout_at(gokio.Instant.now() + 1) as t:
            pass
        assert t.deadline() == gokio.Instant.now() + 1

    vrun(main())


async def _after(seconds: float, value: str) -> str:
    await gokio.sleep(seconds)
    return value


def test_timeout_at_of_a_non_instant_is_a_type_error(run: Runner) -> None:
    async def main() -> None:
        coro = _after(1, "x")
        with pytest.raises(TypeError, match=r"timeout_at\(\) takes a gokio\.Instant"):
            gokio.timeout_at(5.0, coro)  # type: ignore[call-overload]
        assert inspect.getcoroutinestate(coro) == "CORO_CLOSED"

    run(main())


def test_timeout_zero_expires_work_that_has_to_wait(vrun: Runner) -> None:
    async def main() -> None:
        with pytest.raises(gokio.Elapsed):
            await gokio.timeout(0, gokio.sleep(1))
        await _no_stray_cancellation()

    vrun(main())


def test_timeout_zero_returns_work_that_is_ready_at_once(vrun: Runner) -> None:
    async def ready() -> str:
        return "ready"

    async def main() -> None:
        assert await gokio.timeout(0, ready()) == "ready"
        await _no_stray_cancellation()

    vrun(main())


@pytest.mark.parametrize(
    ("bad", "error"), [(-1, ValueError), (math.nan, ValueError), ("2", TypeError)]
)
def test_timeout_bad_seconds_is_rejected_and_closes_the_coroutine(
    run: Runner, bad: object, error: type[Exception]
) -> None:
    async def main() -> None:
        coro = _after(1, "x")
        with pytest.raises(error, match="seconds"):
            gokio.timeout(bad, coro)  # type: ignore[call-overload]
        assert inspect.getcoroutinestate(coro) == "CORO_CLOSED"

    run(main())


def test_await_timeout_without_an_awaitable_is_a_type_error(run: Runner) -> None:
    async def main() -> None:
        with pytest.raises(TypeError, match="needs an awaitable"):
            await gokio.timeout(1)

    run(main())


def test_timeout_block_cannot_be_entered_twice(vrun: Runner) -> None:
    async def main() -> None:
        t = gokio.timeout(1)
        async with t:
            pass
        with pytest.raises(RuntimeError, match="cannot be entered twice"):
            async with t:
                pass  # pragma: no cover

    vrun(main())


def test_nested_timeouts_the_inner_one_expires(vrun: Runner) -> None:
    async def main() -> None:
        async with gokio.timeout(10) as outer:
            with pytest.raises(gokio.Elapsed):
                async with gokio.timeout(1):
                    await gokio.sleep(5)
            await gokio.sleep(1)
        assert not outer.expired()
        await _no_stray_cancellation()

    vrun(main())


def test_nested_timeouts_the_outer_one_expires(vrun: Runner) -> None:
    async def main() -> None:
        inner_expired: list[bool] = []

        async def block() -> None:
            async with gokio.timeout(1), gokio.timeout(10) as inner:
                try:
                    await gokio.sleep(5)
                finally:
                    inner_expired.append(inner.expired())

        with pytest.raises(gokio.Elapsed):
            await block()
        assert inner_expired == [False]
        await _no_stray_cancellation()

    vrun(main())


# --- an op that took effect right as the timeout cancelled it --------------------------


def test_op_that_took_effect_at_the_deadline_returns_its_value(run: Runner) -> None:
    """The parker fires and the deadline cancels in the same iteration: the value wins."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        slot = Slot()
        async with gokio.timeout(0) as t:
            loop.call_soon(slot.put, 11)  # runs in the same iteration as the deadline
            value = await slot
        assert value == 11
        assert t.expired()  # the race really happened
        await _no_stray_cancellation()

    run(main())


def test_op_that_took_effect_at_the_deadline_via_await_timeout(run: Runner) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        slot = Slot()
        loop.call_soon(slot.put, 12)
        assert await gokio.timeout(0, slot) == 12
        await _no_stray_cancellation()

    run(main())


def test_op_that_raised_its_own_error_at_the_deadline_leaves_no_stray_cancel(
    run: Runner,
) -> None:
    """close() fires a parked receive and the deadline cancels in the same iteration: the
    receive raises Closed (its own outcome, not Elapsed) and no cancellation is left
    pending on the task (found by the channel stress test on Python 3.11)."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        ch: gokio.Chan[int] = gokio.chan()
        t = gokio.timeout(0)

        async def recv_under_timeout() -> None:
            async with t:
                loop.call_soon(ch.close)  # runs in the same iteration as the deadline
                await ch.recv()

        with pytest.raises(gokio.Closed):
            await recv_under_timeout()
        assert t.expired()  # the race really happened
        await _no_stray_cancellation()

    run(main())


def test_outside_cancel_while_a_timeout_absorbs_its_own_is_not_swallowed(run: Runner) -> None:
    """Python 3.11: the block ends with our re-armed cancel pending; an outside cancel
    arriving meanwhile must still end the task."""

    async def victim() -> str:
        loop = asyncio.get_running_loop()
        slot = Slot()
        async with gokio.timeout(0):
            loop.call_soon(slot.put, 1)
            await slot
            loop.call_soon(_task().cancel)  # lands while the block exits
        await asyncio.sleep(0)
        return "swallowed"  # pragma: no cover - the bug this test catches

    async def main() -> None:
        t = asyncio.ensure_future(victim())
        with pytest.raises(asyncio.CancelledError):
            await t
        assert t.cancelled()

    run(main())


def test_op_that_took_effect_as_an_outer_task_cancelled_it_still_cancels(run: Runner) -> None:
    """Value returned inside a timeout; the outside cancellation survives the block."""
    events: list[str] = []

    async def victim(slot: Slot) -> None:
        async with gokio.timeout(10):
            events.append(f"got {await slot}")
        events.append("after block")
        await asyncio.sleep(0)
        events.append("not cancelled")  # pragma: no cover - the bug this test catches

    async def main() -> None:
        slot = Slot()
        t = asyncio.ensure_future(victim(slot))
        await asyncio.sleep(0)
        slot.put(5)
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t

    run(main())
    assert events == ["got 5", "after block"]
