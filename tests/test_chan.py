"""Go channels: `gokio.chan`, `gokio.after`."""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import gokio
from gokio import Closed, Empty, Full
from gokio._park import WAITS
from tests.conftest import Runner


async def settle(n: int = 5) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


# -- basics -----------------------------------------------------------------------------


def test_buffered_send_does_not_wait_until_full(run: Runner) -> None:
    async def main() -> None:
        ch: gokio.Chan[int] = gokio.chan(2)
        await ch.send(1)
        await ch.send(2)
        assert len(ch) == 2
        assert ch.cap == 2
        with pytest.raises(Full) as e:
            ch.try_send(3)
        assert e.value.value == 3
        assert [await ch.recv(), await ch.recv()] == [1, 2]

    run(main())


def test_rendezvous_send_completes_only_when_received(run: Runner) -> None:
    async def main() -> None:
        ch: gokio.Chan[str] = gokio.chan()
        done = asyncio.Event()

        async def sender() -> None:
            await ch.send("x")
            done.set()

        t = asyncio.create_task(sender())
        await settle()
        assert not done.is_set()
        assert len(ch) == 0
        assert await ch.recv() == "x"
        await t
        assert done.is_set()

    run(main())


def test_rendezvous_try_send_without_receiver_is_full() -> None:
    ch: gokio.Chan[int] = gokio.chan(0)
    with pytest.raises(Full):
        ch.try_send(1)
    with pytest.raises(Empty):
        ch.try_recv()


def test_close_wakes_parked_receivers_with_closed(run: Runner) -> None:
    async def main() -> None:
        ch: gokio.Chan[int] = gokio.chan()
        tasks = [asyncio.create_task(_recv(ch)) for _ in range(3)]
        await settle()
        ch.close()
        for t in tasks:
            with pytest.raises(Closed):
                await t

    run(main())


def test_close_wakes_parked_senders_with_their_item(run: Runner) -> None:
    async def main() -> None:
        ch: gokio.Chan[int] = gokio.chan(1)
        await ch.send(0)

        async def send(v: int) -> None:
            await ch.send(v)

        tasks = [asyncio.create_task(send(v)) for v in (1, 2)]
        await settle()
        ch.close()
        values = []
        for t in tasks:
            with pytest.raises(Closed) as e:
                await t
            values.append(e.value.value)
        assert values == [1, 2]
        assert await ch.recv() == 0  # the buffered item survives the close

    run(main())


def test_buffered_items_stay_receivable_after_close(run: Runner) -> None:
    async def main() -> None:
        ch: gokio.Chan[int] = gokio.chan(3)
        for i in range(3):
            await ch.send(i)
        ch.close()
        assert [v async for v in ch] == [0, 1, 2]
        with pytest.raises(Closed):
            await ch.recv()
        with pytest.raises(Closed):
            ch.try_recv()

    run(main())


def test_recv_ok_reports_close(run: Runner) -> None:
    async def main() -> None:
        ch: gokio.Chan[int] = gokio.chan(1)
        await ch.send(7)
        ch.close()
        assert await ch.recv_ok() == (7, True)
        assert await ch.recv_ok() == (None, False)

    run(main())


def test_second_close_raises_closed() -> None:
    ch: gokio.Chan[int] = gokio.chan()
    ch.close()
    with pytest.raises(Closed, match="close of closed channel"):
        ch.close()


def test_send_after_close_raises_closed_with_the_item(run: Runner) -> None:
    async def main() -> None:
        ch: gokio.Chan[str] = gokio.chan(4)
        ch.close()
        with pytest.raises(Closed) as e:
            await ch.send("lost?")
        assert e.value.value == "lost?"
        with pytest.raises(Closed) as e2:
            ch.try_send("again")
        assert e2.value.value == "again"

    run(main())


def test_async_for_receives_until_closed(run: Runner) -> None:
    async def main() -> None:
        ch: gokio.Chan[int] = gokio.chan()

        async def produce() -> None:
            for i in range(20):
                await ch.send(i)
            ch.close()

        t = asyncio.create_task(produce())
        assert [v async for v in ch] == list(range(20))
        await t

    run(main())


@pytest.mark.parametrize("bad", [-1, -100])
def test_negative_capacity_is_a_value_error(bad: int) -> None:
    with pytest.raises(ValueError, match="capacity must be >= 0"):
        gokio.chan(bad)


@pytest.mark.parametrize("bad", [1.5, "3", None, True, False])
def test_non_int_or_bool_capacity_is_a_type_error(bad: Any) -> None:
    with pytest.raises(TypeError, match="capacity must be an int"):
        gokio.chan(bad)


def test_repr_shows_capacity_and_length() -> None:
    ch: gokio.Chan[int] = gokio.chan(3)
    ch.try_send(1)
    assert "cap=3 len=1" in repr(ch)


# -- after ------------------------------------------------------------------------------


def test_after_delivers_the_time_once(vrun: Runner) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        ch = gokio.after(5)
        t = await ch.recv()
        assert t >= t0 + 5
        with pytest.raises(Empty):
            ch.try_recv()

    vrun(main())


def test_after_from_a_plain_thread() -> None:
    ch = gokio.after(0.001)
    assert isinstance(ch.blocking_recv(), float)


def test_after_rejects_negative_seconds() -> None:
    with pytest.raises(ValueError, match="negative"):
        gokio.after(-1)


# -- threads and loops ------------------------------------------------------------------


def test_blocking_on_the_loop_thread_raises(run: Runner) -> None:
    async def main() -> None:
        ch: gokio.Chan[int] = gokio.chan(1)
        with pytest.raises(RuntimeError, match=r"await ch\.send"):
            ch.blocking_send(1)
        with pytest.raises(RuntimeError, match=r"await ch\.recv"):
            ch.blocking_recv()

    run(main())


def test_plain_thread_and_task_share_a_rendezvous_channel(run: Runner) -> None:
    async def main() -> None:
        ch: gokio.Chan[int] = gokio.chan()
        back: gokio.Chan[int] = gokio.chan()

        def worker() -> None:
            for _ in range(200):
                back.blocking_send(ch.blocking_recv() * 2)

        th = threading.Thread(target=worker)
        th.start()
        for i in range(200):
            await ch.send(i)
            assert await back.recv() == i * 2
        th.join()

    run(main())


def test_blocking_send_gets_closed_with_the_item() -> None:
    ch: gokio.Chan[int] = gokio.chan()
    out: list[Any] = []

    def sender() -> None:
        try:
            ch.blocking_send(5)
        except Closed as e:
            out.append(e.value)

    th = threading.Thread(target=sender)
    th.start()
    while not ch._sendq:
        threading.Event().wait(0.001)
    ch.close()
    th.join()
    assert out == [5]


def test_tasks_on_two_loops_in_two_threads_share_a_channel() -> None:
    ch: gokio.Chan[int] = gokio.chan(4)
    n = 2000
    got: list[int] = []

    async def produce() -> None:
        for i in range(n):
            await ch.send(i)
        ch.close()

    async def consume() -> None:
        got.extend([v async for v in ch])

    ts = [
        threading.Thread(target=asyncio.run, args=(produce(),)),
        threading.Thread(target=asyncio.run, args=(consume(),)),
    ]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert got == list(range(n))


# -- cancel safety ----------------------------------------------------------------------


@pytest.mark.parametrize("cap", [0, 1])
def test_cancelled_recv_never_consumes(run: Runner, cap: int) -> None:
    async def main() -> None:
        ch: gokio.Chan[int] = gokio.chan(cap)
        t = asyncio.create_task(_recv(ch))
        await settle()
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t
        if cap:
            ch.try_send(1)
            assert ch.try_recv() == 1
        else:
            with pytest.raises(Full):  # nobody is left waiting
                ch.try_send(1)

    run(main())


async def _recv(ch: gokio.Chan[int]) -> int:
    return await ch.recv()


async def _send(ch: gokio.Chan[int], v: int) -> None:
    await ch.send(v)


@pytest.mark.parametrize("cap", [0, 1])
def test_cancelled_parked_send_delivers_nothing(run: Runner, cap: int) -> None:
    async def main() -> None:
        ch: gokio.Chan[int] = gokio.chan(cap)
        if cap:
            await ch.send(0)
        t = asyncio.create_task(_send(ch, 1))
        await settle()
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t
        if cap:
            assert ch.try_recv() == 0
        with pytest.raises(Empty):
            ch.try_recv()

    run(main())


def test_send_taken_before_the_cancel_lands_reports_delivered(run: Runner) -> None:
    async def main() -> None:
        ch: gokio.Chan[int] = gokio.chan()
        state: list[str] = []

        async def sender() -> None:
            await ch.send(1)
            state.append("sent")
            try:
                await asyncio.sleep(0)
            except asyncio.CancelledError:
                state.append("cancel re-delivered")
                raise

        t = asyncio.create_task(sender())
        await settle()
        assert ch.try_recv() == 1  # takes the item: the send has happened
        t.cancel()  # lands after the hand-off
        with pytest.raises(asyncio.CancelledError):
            await t
        assert state == ["sent", "cancel re-delivered"]

    run(main())


def test_recv_handed_an_item_before_the_cancel_lands_returns_it(run: Runner) -> None:
    async def main() -> None:
        ch: gokio.Chan[int] = gokio.chan()
        got: list[int] = []

        async def receiver() -> None:
            got.append(await ch.recv())
            await asyncio.sleep(0)

        t = asyncio.create_task(receiver())
        await settle()
        ch.try_send(42)
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t
        assert got == [42]

    run(main())


# -- budget and waits -------------------------------------------------------------------


def test_hot_loop_over_a_ready_channel_yields_every_128_ops(run: Runner) -> None:
    async def main() -> None:
        ch: gokio.Chan[int] = gokio.chan(1)
        ticks = 0
        stop = False

        async def other() -> None:
            nonlocal ticks
            while not stop:
                ticks += 1
                await asyncio.sleep(0)

        t = asyncio.create_task(other())
        await asyncio.sleep(0)
        start = ticks
        gaps = []
        last = 0
        for i in range(1, 2001):
            await ch.send(i)
            await ch.recv()
            if ticks != start:
                gaps.append(2 * i - last)
                last = 2 * i
                start = ticks
        stop = True
        await t
        assert gaps
        assert max(gaps) <= 128

    run(main())


def test_parked_ops_are_visible_in_waits(run: Runner) -> None:
    async def main() -> None:
        ch: gokio.Chan[int] = gokio.chan()
        r = asyncio.create_task(_recv(ch))
        await settle()
        rec = WAITS[r]
        assert (rec.kind, rec.obj) == ("recv", ch)
        ch.try_send(1)
        await r
        assert r not in WAITS
        s = asyncio.create_task(_send(ch, 2))
        await settle()
        assert (WAITS[s].kind, WAITS[s].obj) == ("send", ch)
        assert ch.try_recv() == 2
        await s

    run(main())


# -- model-based ------------------------------------------------------------------------


class ChanMachine(RuleBasedStateMachine):
    """A Go channel against a model: buffer + FIFO queues of parked senders/receivers."""

    cap = 2

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.ch: gokio.Chan[int] = gokio.chan(self.cap)
        self.buf: deque[int] = deque()
        self.senders: deque[tuple[int, asyncio.Task[None]]] = deque()
        self.receivers: deque[asyncio.Task[int]] = deque()
        self.done: list[tuple[asyncio.Task[Any], Any]] = []  # (task, expected result)
        self.closed = False
        self.next = 0

    def settle(self) -> None:
        self.loop.run_until_complete(settle(8))

    def teardown(self) -> None:
        if not self.closed:
            self.ch.close()
        self.settle()
        tasks = [t for t, _ in self.done] + [t for _, t in self.senders] + list(self.receivers)
        for t in tasks:
            if t.done() and not t.cancelled():
                t.exception()
        self.loop.close()

    def _deliver(self, v: int) -> None:
        """Model a send of ``v`` that happens now."""
        if self.receivers:
            self.done.append((self.receivers.popleft(), v))
        else:
            self.buf.append(v)

    def _model_recv(self) -> int | None:
        if self.buf:
            v = self.buf.popleft()
            if self.senders:
                sv, st_ = self.senders.popleft()
                self.buf.append(sv)
                self.done.append((st_, None))
            return v
        if self.senders:
            sv, st_ = self.senders.popleft()
            self.done.append((st_, None))
            return sv
        return None

    def _value(self) -> int:
        self.next += 1
        return self.next

    @precondition(lambda self: not self.closed)
    @rule()
    def send_task(self) -> None:
        v = self._value()
        t = self.loop.create_task(_send(self.ch, v))
        if self.receivers or len(self.buf) < self.cap:
            self._deliver(v)
            self.done.append((t, None))
        else:
            self.senders.append((v, t))
        self.settle()

    @precondition(lambda self: not self.closed)
    @rule()
    def try_send(self) -> None:
        v = self._value()
        if self.receivers or len(self.buf) < self.cap:
            self.ch.try_send(v)
            self._deliver(v)
        else:
            with pytest.raises(Full):
                self.ch.try_send(v)
        self.settle()

    @rule()
    def recv_task(self) -> None:
        t = self.loop.create_task(_recv(self.ch))
        v = self._model_recv()
        if v is not None:
            self.done.append((t, v))
        elif self.closed:
            self.done.append((t, Closed))
        else:
            self.receivers.append(t)
        self.settle()

    @rule()
    def try_recv(self) -> None:
        v = self._model_recv()
        if v is not None:
            assert self.ch.try_recv() == v
        elif self.closed:
            with pytest.raises(Closed):
                self.ch.try_recv()
        else:
            with pytest.raises(Empty):
                self.ch.try_recv()
        self.settle()

    @precondition(lambda self: bool(self.senders))
    @rule(data=st.data())
    def cancel_sender(self, data: st.DataObject) -> None:
        k = data.draw(st.integers(0, len(self.senders) - 1))
        _, t = self.senders[k]
        del self.senders[k]
        t.cancel()
        self.done.append((t, asyncio.CancelledError))
        self.settle()

    @precondition(lambda self: bool(self.receivers))
    @rule(data=st.data())
    def cancel_receiver(self, data: st.DataObject) -> None:
        k = data.draw(st.integers(0, len(self.receivers) - 1))
        t = self.receivers[k]
        del self.receivers[k]
        t.cancel()
        self.done.append((t, asyncio.CancelledError))
        self.settle()

    @precondition(lambda self: not self.closed)
    @rule()
    def close(self) -> None:
        self.ch.close()
        self.closed = True
        for v, t in self.senders:
            self.done.append((t, ("closed", v)))
        for r in self.receivers:
            self.done.append((r, Closed))
        self.senders.clear()
        self.receivers.clear()
        self.settle()

    @invariant()
    def matches_model(self) -> None:
        assert len(self.ch) == len(self.buf)
        for t, want in self.done:
            assert t.done()
            if want is asyncio.CancelledError:
                assert t.cancelled()
            elif want is Closed:
                assert isinstance(t.exception(), Closed)
            elif isinstance(want, tuple):
                exc = t.exception()
                assert isinstance(exc, Closed)
                assert exc.value == want[1]
            else:
                assert t.result() == want
        self.done.clear()
        for _, t in self.senders:
            assert not t.done()
        for r in self.receivers:
            assert not r.done()


ChanMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=30, deadline=None)
test_buffered_chan_matches_model = ChanMachine.TestCase


class RendezvousMachine(ChanMachine):
    cap = 0


RendezvousMachine.TestCase.settings = settings(
    max_examples=40, stateful_step_count=30, deadline=None
)
test_rendezvous_chan_matches_model = RendezvousMachine.TestCase


def test_ops_are_coroutines_that_asyncio_can_schedule(run: Runner) -> None:
    """A send or receive is a plain coroutine: asyncio.create_task and wait_for take it."""

    async def main() -> None:
        ch: gokio.Chan[int] = gokio.chan()
        t = asyncio.create_task(ch.send(7))
        assert await asyncio.wait_for(ch.recv(), 5) == 7
        await t

    run(main())
