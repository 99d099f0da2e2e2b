"""`select`: wait on several operations, commit exactly one (Go's ``select``, Tokio's ``select!``).

The commit protocol
-------------------

Channel cases are `Op` objects; each exposes ``_try`` / ``_park`` / ``_unpark`` /
``_finish``, each called with the op's primitive lock held (see ``_op.py``). A select
runs Go's algorithm:

1. Lock every distinct primitive lock of its op cases, in one global order (sorted by
   ``id``), so two selects over the same channels in different argument orders cannot
   deadlock each other.
2. Walk the cases in a random permutation (argument order when ``biased``). The first
   case whose ``_try`` completes wins; since ``_try`` takes effect only when it reports
   ready, every other case had no effect. Walking a uniformly random permutation and
   taking the first ready case picks uniformly among the ready cases. A finished
   task/future case is ready too.
3. Nothing ready: with ``default`` return None. Otherwise make ONE shared `Parker` and
   queue it on every op case (``_park(p, i)``), release the locks, start coroutine cases
   as tasks and hook a done-callback on every task/future case, then wait.
4. A counterparty completes one case *for* us (hand-off) by ``p.fire(raw, i)`` under that
   case's lock. ``fire`` on a shared parker claims a one-shot lock: exactly one case
   ever fires, and the op takes effect only if the claim succeeds (a channel sender that
   loses the claim keeps its item and serves the next waiter).
5. On wake-up: remove the parker from every other case (each under its own lock) and
   finish the winner outside the locks.

Races it handles::

    select task                          counterparty A (thread 1)  counterparty B (loop 2)
    park on ch1 and ch2, release locks
                                         lock ch1; p.fire(x, 0)  ->  wins the claim
                                                                    lock ch2; p.fire(y, 1)
                                                                      -> claim lost: B keeps
                                                                         y and tries its
                                                                         next waiter
    woken: index 0, value x; unpark from ch2

    cancelled while parked               A fires p (claim won)
    lock ch1+ch2; p.withdraw() -> False: case 0 happened; return it and rearm_cancel()

    cancelled while parked
    lock ch1+ch2; p.withdraw() -> True:  A (later) finds p withdrawn, skips it: nothing is
                                         consumed or sent by any case

Non-`Op` awaitables cannot be tried without running them: a coroutine becomes a task
(cancelled and awaited if it loses); a task, future or `JoinHandle` passed in is watched
through a done-callback and left running if it loses. Their callbacks fire the same
parker (under a small lock of the select), so they race the channel cases through the
same claim. A coroutine that finishes but loses that race has its result dropped, as in
Tokio: only channel cases are guaranteed to have no effect when they lose.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from random import random, shuffle
from types import CoroutineType
from typing import Any, NamedTuple

from ._op import _CORO_OPS, NOT_READY, Op
from ._park import Parker, _budget, coop_yield, rearm_cancel
from ._task import JoinHandle

__all__ = ["Selected", "select"]

_iscoroutine = asyncio.iscoroutine
_isfuture = asyncio.isfuture


_selected = tuple.__new__  # builds a Selected without NamedTuple's Python-level __new__


class Selected(NamedTuple):
    """The case that won a `select`: its position among the arguments and its result."""

    index: int  # type: ignore[assignment]  # the contract names it; shadows tuple.index
    value: Any


# what kind of case each argument is
_OP = 0
_FUT = 1  # a future or task: left running if it loses
_HANDLE = 2  # a JoinHandle: left running if it loses
_CORO = 3  # a coroutine (or another awaitable): run as our task, cancelled if it loses


def _prepare(cases: tuple[Any, ...]) -> tuple[tuple[Any, ...], list[int], bool]:
    """(cases with coroutine ops turned into Ops, the kind of each, True if all are Ops).

    One pass, cheapest checks first: a select is usually all channel ops.
    """
    out: list[Any] = []
    kinds: list[int] = []
    all_ops = True
    for c in cases:
        if type(c) is CoroutineType:
            # a registered coroutine op not yet started -> its Op (it never ran: closing it is free)
            make = _CORO_OPS.get(c.cr_code)
            frame = c.cr_frame
            if make is not None and frame is not None and not (c.cr_running or c.cr_suspended):
                op = make(frame.f_locals)
                c.close()
                c = op
        if isinstance(c, Op):
            kinds.append(_OP)
        else:
            all_ops = False
            kinds.append(-1)
        out.append(c)
    ready = tuple(out)
    if not all_ops:
        kinds = _classify(ready)
    return ready, kinds, all_ops


def _classify(cases: tuple[Any, ...]) -> list[int]:
    kinds = []
    for i, c in enumerate(cases):
        if isinstance(c, Op):
            kinds.append(_OP)
        elif _isfuture(c):
            kinds.append(_FUT)
        elif isinstance(c, JoinHandle):
            kinds.append(_HANDLE)
        elif inspect.isawaitable(c):
            kinds.append(_CORO)
        else:
            _close_coros(cases)
            raise TypeError(
                f"select() argument {i} is not awaitable: got {type(c).__name__}; pass a "
                f"channel op such as ch.recv() or tx.send(v), a coroutine, a task or a future"
            )
    return kinds


def _close_coros(cases: tuple[Any, ...]) -> None:
    """Close coroutine cases that were never started (no 'never awaited' warning)."""
    for c in cases:
        if type(c) is CoroutineType or (not isinstance(c, Op) and _iscoroutine(c)):
            c.close()


async def _await_it(aw: Any) -> Any:
    return await aw


def _locks_of(cases: tuple[Any, ...], kinds: list[int]) -> list[threading.Lock]:
    n = len(cases)
    if n == 1:
        return [cases[0]._lock()] if kinds[0] == _OP else []
    if n == 2 and kinds[0] == _OP and kinds[1] == _OP:
        a = cases[0]._lock()
        b = cases[1]._lock()
        if a is b:
            return [a]
        return [a, b] if id(a) < id(b) else [b, a]
    seen: dict[int, threading.Lock] = {}
    for c, k in zip(cases, kinds, strict=True):
        if k == _OP:
            lock = c._lock()
            seen[id(lock)] = lock
    return [seen[k] for k in sorted(seen)]


async def select(*cases: Any, default: bool = False, biased: bool = False) -> Selected | None:
    """Wait until one case completes and commit exactly that one.

    Args:
        *cases: channel ops (``ch.recv()``, ``ch.recv_ok()``, ``tx.send(v)``, ...) and any
            other awaitables (coroutines, tasks, futures, `JoinHandle`).
        default: return None at once if no case is ready (Go's ``default:``).
        biased: pick the first ready case in argument order instead of at random.

    Returns:
        ``Selected(index, value)``: the winning case's position and result, or None
        (``default=True`` and nothing was ready).

    Raises:
        ValueError: no cases and no ``default``.
        TypeError: a case is not awaitable.
        Closed: the winning case is a ``recv()`` on a closed, drained channel.
        Exception: whatever a winning coroutine/task/future case raised.

    Cancel safety: if the select is cancelled, no channel case takes effect (nothing
    sent, nothing consumed), unless one had already completed, which is then returned
    (the cancellation is re-delivered at the next await); coroutine cases are cancelled
    and awaited, tasks and futures passed in keep running.
    """
    n = len(cases)
    if n == 0:
        if default:
            return None
        raise ValueError(
            "select() needs at least one case (or default=True, which then returns None)"
        )
    cases, kinds, all_ops = _prepare(cases)  # coroutine ops (ch.recv() ...) -> Op
    b = _budget
    b[0] -= 1
    if b[0] <= 0:  # before any case can take effect
        try:
            await coop_yield()
        except BaseException:
            if not all_ops:
                _close_coros(cases)
            raise
    if biased:
        order: Any = range(n)
    elif n == 2:
        order = (0, 1) if random() < 0.5 else (1, 0)
    else:
        order = list(range(n))
        shuffle(order)
    locks = _locks_of(cases, kinds)

    # -- steps 1-2: try every case once, under all locks ------------------------------
    win = -1
    raw: Any = NOT_READY
    for lock in locks:
        lock.acquire()
    try:
        for i in order:
            k = kinds[i]
            if k == _OP:
                raw = cases[i]._try()
                if raw is not NOT_READY:
                    win = i
                    break
            elif k == _FUT:
                if cases[i].done():
                    win = i
                    break
            elif k == _HANDLE and cases[i].is_finished():
                win = i
                break
        if win < 0 and not default:
            # -- step 3: park one shared parker on every op case --------------------------
            p = Parker(
                "select",
                tuple(c._obj() if k == _OP else c for c, k in zip(cases, kinds, strict=True)),
                shared=True,
            )
            for i in range(n):
                if kinds[i] == _OP:
                    cases[i]._park(p, i)
    except BaseException:
        _close_coros(cases)
        raise
    finally:
        for lock in reversed(locks):
            lock.release()

    if win >= 0:
        if not all_ops:
            _close_coros(cases)
        c = cases[win]
        if kinds[win] == _OP:
            return _selected(Selected, (win, c._finish(raw)))
        return Selected(win, await c)  # done: returns (or raises) at once
    if default:
        if not all_ops:
            _close_coros(cases)
        return None
    return await _wait(p, cases, kinds, locks)


async def _wait(
    p: Parker, cases: tuple[Any, ...], kinds: list[int], locks: list[threading.Lock]
) -> Selected:
    """Steps 3-5 for a parked select: watch the non-op cases, wait, commit one."""
    n = len(cases)
    owned: dict[int, asyncio.Future[Any]] = {}  # our tasks, cancelled if they lose
    watched: dict[int, tuple[asyncio.Future[Any], Any]] = {}  # theirs: (future, callback)
    cb_lock = threading.Lock()
    if any(k != _OP for k in kinds):
        loop = asyncio.get_running_loop()

        def on_done(i: int) -> Any:
            def cb(_: object) -> None:
                with cb_lock:
                    p.fire(None, i)

            return cb

        for i in range(n):
            k = kinds[i]
            c = cases[i]
            if k == _CORO:
                t = loop.create_task(c if _iscoroutine(c) else _await_it(c))
                owned[i] = t
                t.add_done_callback(on_done(i))
            elif k == _FUT:
                cb = on_done(i)
                watched[i] = (c, cb)
                c.add_done_callback(cb)
            elif k == _HANDLE:
                fut = c._fut
                cb = on_done(i)
                watched[i] = (fut, cb)
                fl = fut.get_loop()
                if fl is loop:
                    fut.add_done_callback(cb)
                else:  # a task of another loop: callbacks are added on its own thread
                    fl.call_soon_threadsafe(fut.add_done_callback, cb)
        locks = [*locks, cb_lock]

    try:
        await p.wait()
    except BaseException:
        for lock in locks:
            lock.acquire()
        try:
            withdrawn = p.withdraw()
            for i in range(n):
                if kinds[i] == _OP:
                    cases[i]._unpark(p)
        finally:
            for lock in reversed(locks):
                lock.release()
        if withdrawn:
            await _cleanup(owned, watched, -1)
            raise
        rearm_cancel()  # a case completed before the cancellation landed: report it
    else:
        for i in range(n):
            if kinds[i] == _OP and i != p.index:
                c = cases[i]
                with c._lock():
                    c._unpark(p)

    win = p.index
    c = cases[win]
    try:
        if kinds[win] == _OP:
            return Selected(win, c._finish(p.value))
        if kinds[win] == _CORO:
            return Selected(win, owned[win].result())
        return Selected(win, await c)  # done: returns (or raises) at once
    finally:
        await _cleanup(owned, watched, win)


async def _cleanup(
    owned: dict[int, asyncio.Future[Any]],
    watched: dict[int, tuple[asyncio.Future[Any], Any]],
    win: int,
) -> None:
    """Cancel and await the coroutine cases that lost; unhook the watched futures."""
    loop = asyncio.get_running_loop()
    for i, (fut, cb) in watched.items():
        if i == win:
            continue
        fl = fut.get_loop()
        if fl is loop:
            fut.remove_done_callback(cb)
        else:
            fl.call_soon_threadsafe(fut.remove_done_callback, cb)
    losers = [t for i, t in owned.items() if i != win]
    for t in losers:
        t.cancel()
    # A case already took effect (or the select is already unwinding): a cancellation
    # arriving while the losers finish must not lose that result, so wait them out and
    # re-deliver it afterwards.
    pending = [t for t in losers if not t.done()]
    interrupted = False
    while pending:
        try:
            await asyncio.wait(pending)
        except asyncio.CancelledError:
            interrupted = True
        pending = [t for t in pending if not t.done()]
    if interrupted:
        rearm_cancel()
    for t in losers:
        if not t.cancelled():
            t.exception()  # a loser's own failure is not ours: mark it retrieved
