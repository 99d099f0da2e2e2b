"""interval: first tick at once, Tokio's missed-tick policies, reset (issue 2, item 5).

Runs on the virtual clock, starting at 0.0, with a period of 1 s: a stall of 3.5 periods
after the first tick is the scenario every policy is checked against.
"""

from __future__ import annotations

import asyncio
import math

import pytest

import gokio
from gokio._park import WAITS
from tests.conftest import Runner


def _now() -> float:
    return asyncio.get_running_loop().time()


async def _ticks(iv: gokio.Interval, n: int) -> list[tuple[float, float]]:
    """(scheduled instant, time it fired) of the next ``n`` ticks."""
    out = []
    for _ in range(n):
        t = await iv.tick()
        out.append((t.seconds, _now()))
    return out


def test_first_tick_completes_at_once(vrun: Runner) -> None:
    async def main() -> None:
        start = _now()
        iv = gokio.interval(1)
        t = await iv.tick()
        assert t.seconds == start
        assert _now() == start

    vrun(main())


def test_ticks_follow_the_period(vrun: Runner) -> None:
    async def main() -> None:
        iv = gokio.interval(1)
        assert await _ticks(iv, 4) == [(0, 0), (1, 1), (2, 2), (3, 3)]

    vrun(main())


def test_burst_fires_missed_ticks_back_to_back_on_the_original_grid(vrun: Runner) -> None:
    async def main() -> None:
        iv = gokio.interval(1)  # burst is the default
        assert iv.missed_tick == "burst"
        await iv.tick()
        await gokio.sleep(3.5)  # stall: ticks 1, 2 and 3 are missed
        assert await _ticks(iv, 5) == [
            (1, 3.5),
            (2, 3.5),
            (3, 3.5),  # the missed ones, at once
            (4, 4),
            (5, 5),  # back on the original grid
        ]

    vrun(main())


def test_delay_fires_now_and_rebases_the_schedule_on_now(vrun: Runner) -> None:
    async def main() -> None:
        iv = gokio.interval(1, missed_tick="delay")
        await iv.tick()
        await gokio.sleep(3.5)
        assert await _ticks(iv, 3) == [(1, 3.5), (4.5, 4.5), (5.5, 5.5)]

    vrun(main())


def test_skip_fires_now_and_jumps_to_the_next_grid_point(vrun: Runner) -> None:
    async def main() -> None:
        iv = gokio.interval(1, missed_tick="skip")
        await iv.tick()
        await gokio.sleep(3.5)
        assert await _ticks(iv, 3) == [(1, 3.5), (4, 4), (5, 5)]

    vrun(main())


def test_skip_after_a_stall_ending_exactly_on_a_grid_point(vrun: Runner) -> None:
    async def main() -> None:
        iv = gokio.interval(1, missed_tick="skip")
        await iv.tick()
        await gokio.sleep(3)
        assert await _ticks(iv, 2) == [(1, 3), (4, 4)]

    vrun(main())


def test_a_slightly_late_tick_is_not_treated_as_missed(vrun: Runner) -> None:
    async def main() -> None:
        iv = gokio.interval(1, missed_tick="delay")
        await iv.tick()
        await gokio.sleep(1.001)  # within Tokio's 5 ms tolerance: the grid is kept
        assert await _ticks(iv, 2) == [(1, 1.001), (2, 2)]

    vrun(main())


def test_reset_makes_the_next_tick_one_period_from_now(vrun: Runner) -> None:
    async def main() -> None:
        iv = gokio.interval(2)
        await iv.tick()
        await gokio.sleep(0.5)
        iv.reset()
        assert await _ticks(iv, 2) == [(2.5, 2.5), (4.5, 4.5)]

    vrun(main())


def test_async_for_yields_the_ticks(vrun: Runner) -> None:
    async def main() -> None:
        seen: list[float] = []
        async for t in gokio.interval(0.5):
            seen.append(t.seconds)
            if len(seen) == 4:
                break
        assert seen == [0, 0.5, 1.0, 1.5]

    vrun(main())


def test_cancelled_tick_consumes_no_tick(vrun: Runner) -> None:
    async def main() -> None:
        iv = gokio.interval(1)
        await iv.tick()
        with pytest.raises(gokio.Elapsed):
            await gokio.timeout(0.5, iv.tick())
        assert await _ticks(iv, 1) == [(1, 1)]

    vrun(main())


def test_task_waiting_for_a_tick_is_recorded_in_waits(vrun: Runner) -> None:
    async def main() -> None:
        iv = gokio.interval(1)
        await iv.tick()
        t = asyncio.ensure_future(iv.tick())
        await asyncio.sleep(0)
        assert (WAITS[t].kind, WAITS[t].obj) == ("interval", iv)
        await t
        assert t not in WAITS

    vrun(main())


def test_interval_properties_and_repr() -> None:
    iv = gokio.interval(0.25, missed_tick="skip")
    assert iv.period == 0.25
    assert iv.missed_tick == "skip"
    assert "skip" in repr(iv)


@pytest.mark.parametrize("bad", [0, 0.0])
def test_zero_period_is_a_value_error(bad: float) -> None:
    with pytest.raises(ValueError, match="period must be positive"):
        gokio.interval(bad)


@pytest.mark.parametrize("bad", [-1, -0.5, math.nan])
def test_negative_or_nan_period_is_a_value_error(bad: float) -> None:
    with pytest.raises(ValueError, match="period"):
        gokio.interval(bad)


def test_non_number_period_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="period must be a number of seconds"):
        gokio.interval("1")  # type: ignore[arg-type]


def test_unknown_missed_tick_policy_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="missed_tick must be 'burst', 'delay' or 'skip'"):
        gokio.interval(1, missed_tick="catch-up")  # type: ignore[arg-type]
