"""Notify: one stored permit, notify_one / notify_waiters, the hand-on on cancellation."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import gokio
from gokio import Notify
from gokio._park import WAITS
from tests.conftest import Runner


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_notify_one_wakes_a_waiter(run: Runner) -> None:
    async def main() -> None:
        n = Notify()
        t = asyncio.create_task(n.notified()._wait())
        await settle()
        assert not t.done()
        n.notify_one()
        await asyncio.wait_for(t, 5)

    run(main())


def test_notify_one_with_nobody_waiting_stores_one_permit(run: Runner) -> None:
    async def main() -> None:
        n = Notify()
        n.notify_one()
        n.notify_one()  # still one permit, not two
        await n.notified()  # consumes it at once
        t = asyncio.create_task(n.notified()._wait())
        await settle()
        assert not t.done()
        n.notify_one()
        await t

    run(main())


def test_notify_one_wakes_the_longest_waiter(run: Runner) -> None:
    async def main() -> list[int]:
        n = Notify()
        woken: list[int] = []

        async def waiter(i: int) -> None:
            await n.notified()
            woken.append(i)

        ts = []
        for i in range(4):
            ts.append(asyncio.create_task(waiter(i)))
            await settle()
        for _ in range(4):
            n.notify_one()
            await settle()
        await asyncio.gather(*ts)
        return woken

    assert run(main()) == [0, 1, 2, 3]


def test_notify_waiters_wakes_all_and_stores_nothing(run: Runner) -> None:
    async def main() -> None:
        n = Notify()
        ts = [asyncio.create_task(n.notified()._wait()) for _ in range(3)]
        await settle()
        n.notify_waiters()
        await asyncio.wait_for(asyncio.gather(*ts), 5)
        late = asyncio.create_task(n.notified()._wait())
        await settle()
        assert not late.done()
        n.notify_waiters()
        await late

    run(main())


def test_notify_waiters_leaves_a_stored_permit(run: Runner) -> None:
    async def main() -> None:
        n = Notify()
        n.notify_one()
        n.notify_waiters()
        await asyncio.wait_for(n.notified(), 5)

    run(main())


def test_waiter_cancelled_after_notify_one_passes_it_to_the_next(run: Runner) -> None:
    async def main() -> None:
        n = Notify()
        w1 = asyncio.create_task(n.notified()._wait())
        await settle()
        w2 = asyncio.create_task(n.notified()._wait())
        await settle()
        n.notify_one()  # chooses w1 ...
        w1.cancel()  # ... which is cancelled before it runs
        await asyncio.wait_for(w2, 5)
        with pytest.raises(asyncio.CancelledError):
            await w1
        assert not n._permit  # handed on, not doubled

    run(main())


def test_sole_waiter_cancelled_after_notify_one_stores_the_permit(run: Runner) -> None:
    async def main() -> None:
        n = Notify()
        w = asyncio.create_task(n.notified()._wait())
        await settle()
        n.notify_one()
        w.cancel()
        with pytest.raises(asyncio.CancelledError):
            await w
        await asyncio.wait_for(n.notified(), 5)  # the permit is back

    run(main())


def test_waiter_cancelled_after_notify_waiters_passes_nothing_on(run: Runner) -> None:
    async def main() -> None:
        n = Notify()
        w = asyncio.create_task(n.notified()._wait())
        await settle()
        n.notify_waiters()
        w.cancel()
        with pytest.raises(asyncio.CancelledError):
            await w
        assert not n._permit

    run(main())


def test_a_notified_cannot_be_awaited_twice_at_once(run: Runner) -> None:
    async def main() -> None:
        n = Notify()
        waiter = n.notified()
        t = asyncio.create_task(waiter._wait())
        await settle()
        with pytest.raises(RuntimeError, match="already being awaited"):
            await waiter
        n.notify_one()
        await t

    run(main())


def test_parked_notified_is_visible_in_waits(run: Runner) -> None:
    async def main() -> None:
        n = Notify()
        t = asyncio.create_task(n.notified()._wait())
        await settle()
        assert WAITS[t].kind == "notified"
        assert WAITS[t].obj is n
        n.notify_one()
        await t

    run(main())


def test_notify_one_from_a_plain_thread_wakes_a_task(run: Runner) -> None:
    async def main() -> None:
        n = Notify()
        t = asyncio.create_task(n.notified()._wait())
        await settle()
        th = threading.Thread(target=n.notify_one)
        th.start()
        await asyncio.wait_for(t, 5)
        th.join()

    run(main())


def test_notified_is_a_select_case(run: Runner) -> None:
    async def main() -> None:
        n = Notify()
        ch: gokio.Chan[int] = gokio.chan(1)
        t = asyncio.create_task(gokio.select(n.notified(), ch.recv()))
        await settle()
        await ch.send(1)
        assert await t == (1, 1)
        n.notify_one()  # the losing case consumed nothing: this is stored
        assert n._permit
        assert await gokio.select(n.notified(), ch.recv()) == (0, None)

    run(main())


# --- model-based: notify_one / notify_waiters / notified / cancel ------------------------


class NotifyModel(RuleBasedStateMachine):
    """A real Notify on one loop against a model: FIFO waiters and one permit bit."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.notify = Notify()
        self.permit = False
        self.queue: list[int] = []
        self.woken: set[int] = set()
        self.tasks: dict[int, asyncio.Task[None]] = {}
        self.next_id = 0

    def teardown(self) -> None:
        for t in self.tasks.values():
            t.cancel()
        self.loop.run_until_complete(settle())
        self.loop.close()

    def settle(self) -> None:
        self.loop.run_until_complete(settle())

    def model_notify_one(self) -> int | None:
        if self.queue:
            i = self.queue.pop(0)
            self.woken.add(i)
            return i
        self.permit = True
        return None

    @rule()
    def notified(self) -> None:
        i = self.next_id
        self.next_id += 1
        self.tasks[i] = self.loop.create_task(self.notify.notified()._wait())
        if self.permit:
            self.permit = False
            self.woken.add(i)
        else:
            self.queue.append(i)
        self.settle()

    @rule(cancel_chosen=st.booleans())
    def notify_one(self, cancel_chosen: bool) -> None:
        self.notify.notify_one()
        chosen = self.model_notify_one()
        if cancel_chosen and chosen is not None:
            # Cancelled before it ran: it hands the notification to the next waiter.
            self.tasks[chosen].cancel()
            self.woken.discard(chosen)
            self.model_notify_one()
        self.settle()

    @rule(cancel_one=st.booleans())
    def notify_waiters(self, cancel_one: bool) -> None:
        self.notify.notify_waiters()
        woken, self.queue = self.queue, []
        self.woken.update(woken)
        if cancel_one and woken:
            self.tasks[woken[0]].cancel()  # passes nothing on
            self.woken.discard(woken[0])
        self.settle()

    @precondition(lambda self: bool(self.queue))
    @rule(data=st.data())
    def cancel_waiting(self, data: Any) -> None:
        i = data.draw(st.sampled_from(self.queue))
        self.tasks[i].cancel()
        self.queue.remove(i)
        self.settle()

    @invariant()
    def matches_model(self) -> None:
        assert self.notify._permit == self.permit
        done_ok = {i for i, t in self.tasks.items() if t.done() and not t.cancelled()}
        pending = sorted(i for i, t in self.tasks.items() if not t.done())
        assert done_ok == self.woken
        assert pending == self.queue
        assert len(self.notify._waiters) == len(self.queue)


TestNotifyModel = NotifyModel.TestCase
TestNotifyModel.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)


def test_blocking_notified_wakes_a_plain_thread() -> None:
    nt = gokio.Notify()
    woke = threading.Event()

    def waiter() -> None:
        nt.blocking_notified()
        woke.set()

    th = threading.Thread(target=waiter)
    th.start()
    while not any(isinstance(r.owner, threading.Thread) for r in WAITS.records()):  # parked
        time.sleep(0.001)
    assert not woke.is_set()
    nt.notify_one()
    th.join(5)
    assert woke.is_set()


def test_blocking_notified_consumes_a_stored_permit_at_once() -> None:
    nt = gokio.Notify()
    nt.notify_one()
    nt.blocking_notified()  # returns: the permit was stored


def test_blocking_notified_on_a_loop_thread_is_a_runtime_error(run: Runner) -> None:
    async def main() -> None:
        with pytest.raises(RuntimeError, match=r"await notify\.notified"):
            gokio.Notify().blocking_notified()

    run(main())
