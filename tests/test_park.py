"""The parking core: WAITS record, rearm_cancel, budget, check_blocking_allowed (issue 2)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from typing import Any

import pytest

import gokio
from gokio._op import NOT_READY, Op
from gokio._park import (
    BUDGET,
    WAITS,
    Parker,
    WaitRecord,
    check_blocking_allowed,
    consume_budget,
    coop_yield,
    reset_budget,
)
from tests.conftest import Runner


class Slot(Op[int]):
    """A minimal op for tests: ``await slot`` parks until ``slot.put(v)`` fires it."""

    kind = "recv"

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.parked: Parker | None = None

    def _lock(self) -> threading.Lock:
        return self.lock

    def _obj(self) -> object:
        return self

    def _try(self) -> Any:
        return NOT_READY

    def _park(self, parker: Parker, index: int) -> None:
        self.parked = parker

    def _unpark(self, parker: Parker) -> None:
        self.parked = None

    def waiting(self) -> Parker | None:
        """The parker of the party waiting on the slot, if any."""
        with self.lock:
            return self.parked

    def put(self, value: int) -> bool:
        """Hand ``value`` to the parked party (the op takes effect right here)."""
        with self.lock:
            p, self.parked = self.parked, None
            return p is not None and p.fire(value)


def _wait_for(cond: Any) -> None:
    deadline = time.monotonic() + 10
    while not cond():
        assert time.monotonic() < deadline, "condition never became true"
        time.sleep(0.001)


# --- an op that took effect as its task was cancelled ----------------------------------


def test_op_that_fired_before_cancel_returns_its_value_and_cancels_at_next_await(
    run: Runner,
) -> None:
    events: list[str] = []

    async def receiver(slot: Slot) -> None:
        v = await slot
        events.append(f"got {v}")
        try:
            await asyncio.sleep(0)
        except asyncio.CancelledError:
            events.append("cancelled at the next await")
            raise
        events.append("not cancelled")  # pragma: no cover - the bug this test catches

    async def main() -> None:
        slot = Slot()
        t = asyncio.ensure_future(receiver(slot))
        await asyncio.sleep(0)
        assert slot.parked is not None
        assert slot.put(7)  # took effect...
        t.cancel()  # ...and the cancellation lands before the task resumes
        with pytest.raises(asyncio.CancelledError):
            await t
        assert t.cancelled()

    run(main())
    assert events == ["got 7", "cancelled at the next await"]


def test_op_cancelled_before_it_fired_is_withdrawn(run: Runner) -> None:
    async def main() -> None:
        slot = Slot()
        t = asyncio.ensure_future(_await(slot))
        await asyncio.sleep(0)
        assert slot.parked is not None
        parker = slot.parked
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t
        assert slot.waiting() is None  # unparked
        assert not parker.fire(1)  # withdrawn: a late counterparty cannot deliver to it

    run(main())


async def _await(slot: Slot) -> int:
    return await slot


# --- WAITS: what a parked party waits on ---------------------------------------------


def test_task_parked_on_a_parker_is_recorded_in_waits(run: Runner) -> None:
    async def main() -> None:
        slot = Slot()
        t = asyncio.ensure_future(_await(slot))
        await asyncio.sleep(0)
        rec = WAITS[t]
        assert rec.kind == "recv"
        assert rec.obj is slot
        assert rec.owner is t
        assert rec.since > 0
        assert rec is slot.parked
        slot.put(3)
        assert await t == 3
        assert t not in WAITS

    run(main())


def test_task_in_gokio_sleep_is_recorded_in_waits(vrun: Runner) -> None:
    async def main() -> None:
        t = asyncio.ensure_future(gokio.sleep(5))
        await asyncio.sleep(0)
        rec = WAITS[t]
        assert isinstance(rec, WaitRecord)
        assert (rec.kind, rec.obj, rec.owner) == ("sleep", 5.0, t)
        await t
        assert t not in WAITS

    vrun(main())


def test_task_in_sleep_until_is_recorded_with_its_deadline(vrun: Runner) -> None:
    async def main() -> None:
        deadline = gokio.Instant.now() + 2
        t = asyncio.ensure_future(gokio.sleep_until(deadline))
        await asyncio.sleep(0)
        assert (WAITS[t].kind, WAITS[t].obj) == ("sleep", deadline)
        await t
        assert t not in WAITS

    vrun(main())


def test_task_joining_a_handle_is_recorded_in_waits(run: Runner) -> None:
    async def main() -> None:
        ev = asyncio.Event()
        h = gokio.spawn(ev.wait())
        joiner = asyncio.ensure_future(_join(h))
        await asyncio.sleep(0)
        rec = WAITS[joiner]
        assert (rec.kind, rec.obj, rec.owner) == ("join", h, joiner)
        ev.set()
        await joiner
        assert joiner not in WAITS

    run(main())


async def _join(h: gokio.JoinHandle[Any]) -> Any:
    return await h


def test_task_joining_a_remote_handle_is_recorded_in_waits(run: Runner) -> None:
    with gokio.Runtime() as rt:
        gate: concurrent.futures.Future[int] = concurrent.futures.Future()

        async def remote() -> int:
            return await asyncio.wrap_future(gate)

        h = rt.spawn(remote())

        async def main() -> None:
            joiner = asyncio.ensure_future(_join(h))
            await asyncio.sleep(0)
            rec = WAITS[joiner]
            assert (rec.kind, rec.obj, rec.owner) == ("join", h, joiner)
            gate.set_result(1)
            assert await joiner == 1
            assert joiner not in WAITS

        run(main())


def test_task_in_gokio_join_is_recorded_in_waits(run: Runner) -> None:
    async def main() -> None:
        ev = asyncio.Event()
        joiner = asyncio.ensure_future(gokio.join(ev.wait(), ev.wait()))
        await asyncio.sleep(0)
        assert WAITS[joiner].kind == "join"
        ev.set()
        await joiner
        assert joiner not in WAITS

    run(main())


def test_task_in_joinset_join_next_is_recorded_in_waits(run: Runner) -> None:
    async def main() -> None:
        ev = asyncio.Event()
        js: gokio.JoinSet[bool] = gokio.JoinSet()
        js.spawn(ev.wait())
        t = asyncio.ensure_future(js.join_next())
        await asyncio.sleep(0)
        assert (WAITS[t].kind, WAITS[t].obj) == ("joinset", js)
        ev.set()
        assert await t is True
        assert t not in WAITS

    run(main())


def test_thread_parked_in_wait_blocking_is_recorded_with_its_thread() -> None:
    box: list[Parker] = []
    result: list[Any] = []

    def parked() -> None:
        p = Parker("recv", "the-object")
        box.append(p)
        p.wait_blocking()
        result.append(p.value)

    t = threading.Thread(target=parked)
    t.start()
    _wait_for(lambda: t in WAITS)
    p = box[0]
    assert WAITS[t] is p
    assert p.owner is t
    assert (p.kind, p.obj) == ("recv", "the-object")
    assert p.fire("value")
    t.join(10)
    assert result == ["value"]
    assert t not in WAITS


def test_wait_blocking_times_out_and_the_withdraw_unrecords() -> None:
    p = Parker("recv", None)
    assert p.wait_blocking(0.001) is False
    assert WAITS[threading.current_thread()] is p  # still parked until it withdraws
    assert p.withdraw()
    assert threading.current_thread() not in WAITS


# --- check_blocking_allowed ------------------------------------------------------------


def test_check_blocking_allowed_raises_on_a_loop_thread(run: Runner) -> None:
    async def main() -> None:
        with pytest.raises(RuntimeError, match=r"blocking_recv\(\) called on a thread") as info:
            check_blocking_allowed("blocking_recv", "await rx.recv()")
        assert "'await rx.recv()'" in str(info.value)

    run(main())


def test_check_blocking_allowed_passes_on_a_plain_thread() -> None:
    check_blocking_allowed("blocking_recv", "await rx.recv()")


# --- cooperative budget ----------------------------------------------------------------


def test_consume_budget_asks_for_a_yield_after_128_ready_operations() -> None:
    reset_budget()
    answers = [consume_budget() for _ in range(BUDGET)]
    assert BUDGET == 128
    assert answers == [False] * 127 + [True]


def test_consume_budget_never_lets_more_than_128_pass_without_a_yield(run: Runner) -> None:
    async def main() -> None:
        reset_budget()
        since_yield = 0
        longest = 0
        for _ in range(1000):
            since_yield += 1
            if consume_budget():
                longest = max(longest, since_yield)
                since_yield = 0
                await coop_yield()
        assert longest == 128

    run(main())


def test_coop_yield_lets_another_task_run(run: Runner) -> None:
    async def main() -> None:
        ran: list[bool] = []

        async def other() -> None:
            ran.append(True)

        t = asyncio.ensure_future(other())
        await coop_yield()
        assert ran == [True]
        await t

    run(main())


def test_a_real_park_refills_the_budget(run: Runner) -> None:
    async def main() -> None:
        reset_budget()
        for _ in range(100):
            consume_budget()
        slot = Slot()
        t = asyncio.ensure_future(_await(slot))
        await asyncio.sleep(0)
        slot.put(1)
        await t  # t parked and woke: the budget is full again
        assert [consume_budget() for _ in range(127)] == [False] * 127

    run(main())
