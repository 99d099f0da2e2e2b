"""Parking: how a gokio operation waits, and how another thread or task wakes it.

Every primitive (channels, locks, select, timers) is built on one object, the `Parker`:
one per blocked operation (or one per blocked `select`, shared by all its cases). A
parker belongs to exactly one party: an asyncio task on some loop, or a plain thread.

The life of a parker is a single transition, ``WAITING -> FIRED`` (a counterparty handed
it a result: ``index`` and ``value`` are set, then the owner is woken) or ``WAITING ->
WITHDRAWN`` (its owner gave up: cancelled, timed out, or another select case won). The
transition is a *claim*: exactly one party wins it.

* A parker for a single operation is guarded by the lock of the one primitive it is
  queued on: every claim on it is made while holding that lock, so a claim is a plain
  check-and-set.
* A parker shared by several primitives (select) can be claimed under different locks at
  once, so it claims with a one-shot ``threading.Lock`` (``acquire(blocking=False)`` is
  an atomic test-and-set that succeeds for exactly one caller and is never released).

The result travels on the parker, never on the future: the future is only a doorbell.
This is what makes cancellation safe. When the owner's wait is interrupted, it tries to
withdraw (claim its own parker under the primitive's lock); if the claim fails, a
counterparty already fired it and the result is the owner's: the operation returns it
and re-arms the cancellation (`rearm_cancel`) so the task still sees its
``CancelledError`` at its next await. Nothing is lost and no cancellation is swallowed.

Waking crosses threads correctly: a waker on the owner's loop thread completes the
future directly; any other thread uses ``loop.call_soon_threadsafe``; a plain thread
owner is woken by releasing a lock it is blocked on.

What a parked party waits on is recorded in `WAITS`, cheaply (a dict store and a delete
per park), for the task dump and deadlock detector: each record carries ``kind``
(``"recv"``, ``"send"``, ``"lock"``, ``"sleep"``, ...), ``obj`` (the channel, lock, ...),
``owner`` (the task or ``threading.Thread``) and ``since`` (monotonic seconds).
``WAITS[owner]`` looks a party up. A parker of a task is filed under the future the task
awaits, not under the task: finding the current task costs more than the rest of a park,
and the task is recovered when asked for, as the one whose ``_fut_waiter`` is that
future (asyncio's own link from a suspended task to what it awaits).
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, Final, final

__all__ = [
    "WAITS",
    "Parker",
    "check_blocking_allowed",
    "consume_budget",
    "coop_yield",
    "rearm_cancel",
    "record_wait",
    "reset_budget",
]

_get_running_loop = asyncio._get_running_loop  # C fast path; None when no loop runs
_current_task = asyncio.current_task
_get_ident = threading.get_ident
_monotonic = time.monotonic
_Lock = threading.Lock
_Future = asyncio.Future

WAITING: Final = 0
FIRED: Final = 1
WITHDRAWN: Final = 2


class _Waits:
    """Owner (task or thread) -> what it waits on (a `Parker` or a `WaitRecord`).

    Records are filed under a key: the thread, the task (`record_wait`), or the future a
    parked task awaits (`Parker`); see the module docstring.
    """

    __slots__ = ("_by_key",)

    def __init__(self) -> None:
        self._by_key: dict[object, Any] = {}

    def _find(self, owner: object) -> Any:
        rec = self._by_key.get(owner)
        if rec is None:
            waiter = getattr(owner, "_fut_waiter", None)  # a task suspended on a future
            if waiter is not None:
                rec = self._by_key.get(waiter)
        return rec

    def __getitem__(self, owner: object) -> Any:
        rec = self._find(owner)
        if rec is None:
            raise KeyError(owner)
        return rec

    def __contains__(self, owner: object) -> bool:
        return self._find(owner) is not None

    def get(self, owner: object, default: Any = None) -> Any:
        rec = self._find(owner)
        return default if rec is None else rec

    def records(self) -> list[Any]:
        """Every current record (each knows its ``owner``)."""
        return list(self._by_key.values())

    def __len__(self) -> int:
        return len(self._by_key)


#: what every parked party waits on; see the module docstring
WAITS = _Waits()
_by_key = WAITS._by_key
_waits_pop = _by_key.pop


@final
class WaitRecord:
    """What a party waits on when it waits without a Parker (sleeps, joins, ...)."""

    __slots__ = ("kind", "obj", "owner", "since")

    def __init__(self, kind: str, obj: object, owner: object) -> None:
        self.kind = kind
        self.obj = obj
        self.owner = owner
        self.since = _monotonic()

    def __repr__(self) -> str:
        return f"<waiting on {self.kind} {self.obj!r}>"


class record_wait:  # noqa: N801 - used like a function: `with record_wait("sleep", x):`
    """Context manager that records, for diagnostics, what the current party waits on."""

    __slots__ = ("_owner", "_rec")

    def __init__(self, kind: str, obj: object) -> None:
        owner: object = _current_task() if _get_running_loop() is not None else None
        if owner is None:
            owner = threading.current_thread()
        self._owner = owner
        self._rec = WaitRecord(kind, obj, owner)

    def __enter__(self) -> WaitRecord:
        _by_key[self._owner] = self._rec
        return self._rec

    def __exit__(self, *exc: object) -> None:
        _waits_pop(self._owner, None)


def _wake_future(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


@final
class Parker:
    """One parked operation (or one parked select): see the module docstring.

    Create it with ``Parker(kind, obj)`` from the task or thread that will wait, queue it
    on the primitive under the primitive's lock, release the lock, then ``await
    p.wait()`` (task) or ``p.wait_blocking()`` (thread).
    """

    __slots__ = (
        "_claim",
        "_fut",
        "_key",
        "_loop",
        "_thread",
        "_tlock",
        "index",
        "kind",
        "obj",
        "since",
        "state",
        "value",
    )

    def __init__(self, kind: str, obj: object, *, shared: bool = False) -> None:
        loop = _get_running_loop()
        self._loop = loop
        self._thread = _get_ident()
        key: object
        if loop is not None:
            fut: asyncio.Future[None] = _Future(loop=loop)
            self._fut: asyncio.Future[None] | None = fut
            key = fut
            self._tlock: Any = None
            _budget[0] = BUDGET  # the owner is about to really wait: its budget refills
        else:
            self._fut = None
            self._tlock = _Lock()
            self._tlock.acquire()
            key = threading.current_thread()
        self._key = key
        self._claim: Any = _Lock() if shared else None
        self.state = WAITING
        self.kind = kind
        self.obj = obj
        #: which case fired (select) and with what result
        self.index = 0
        self.value: Any = None
        self.since = _monotonic()
        # The wait record lives from here until the parker fires or is withdrawn (both
        # remove it, before the owner can run again and park anew).
        _by_key[key] = self

    @property
    def owner(self) -> object:
        """The task (found through the future it awaits) or thread that is parked here."""
        if self._fut is None:
            return self._key
        fut = self._fut
        for task in asyncio.all_tasks(self._loop):
            if getattr(task, "_fut_waiter", None) is fut:
                return task
        return None

    def fire(self, value: Any = None, index: int = 0) -> bool:
        """Claim, store the result, and wake the owner. False if it was already claimed.

        Call it with the lock of the primitive the parker is queued on held.
        """
        if self.state != WAITING:
            return False
        if self._claim is not None and not self._claim.acquire(False):
            return False
        self.index = index
        self.value = value
        self.state = FIRED
        _waits_pop(self._key, None)  # before the wake: the owner may park again at once
        loop = self._loop
        if loop is None:
            self._tlock.release()
        elif self._thread == _get_ident():
            fut = self._fut
            if not fut.done():  # type: ignore[union-attr]
                fut.set_result(None)  # type: ignore[union-attr]
        else:
            try:
                loop.call_soon_threadsafe(_wake_future, self._fut)  # type: ignore[arg-type]
            except RuntimeError:  # the owner's loop is closed: nobody will ever collect it
                self.state = WITHDRAWN
                return False
        return True

    def withdraw(self) -> bool:
        """Give up waiting. True if withdrawn; False if a counterparty fired it first.

        Call with the guarding lock held (every lock, for a select's parker).
        """
        if self.state != WAITING:
            return False
        if self._claim is not None and not self._claim.acquire(False):
            return False
        self.state = WITHDRAWN
        _waits_pop(self._key, None)
        return True

    def wait(self) -> asyncio.Future[None]:
        """What the owning task awaits (``await p.wait()``) until the parker fires.

        Raises CancelledError if the wait is interrupted; the caller then withdraws.
        """
        return self._fut  # type: ignore[return-value]

    def wait_blocking(self, timeout: float | None = None) -> bool:
        """Park the owning thread until fired; False if ``timeout`` passed first (the
        caller then withdraws)."""
        if timeout is None:
            return bool(self._tlock.acquire())
        return bool(self._tlock.acquire(True, max(timeout, 0.0)))

    def __repr__(self) -> str:
        state = ("waiting", "fired", "withdrawn")[self.state]
        return f"<Parker {self.kind} on {self.obj!r} ({state})>"


class _NoLoop:
    """Just enough of a loop for a future that is born finished and never scheduled."""

    __slots__ = ()

    def get_debug(self) -> bool:
        return False


#: An awaitable that is already complete (result None). A synchronous ``__aexit__`` can
#: return it instead of being a coroutine: ``await READY`` is the future's own C
#: iterator finishing at once, cheaper than creating and running a coroutine. It never
#: touches a loop, so any loop (or several) may await it.
READY: asyncio.Future[None] = _Future(loop=_NoLoop())  # type: ignore[arg-type]
READY.set_result(None)


def rearm_cancel() -> None:
    """Re-deliver a cancellation that arrived after the operation had completed.

    The operation returns its result (nothing is lost) and the task gets its
    ``CancelledError`` at its next await: ``cancel()`` sets the pending flag and
    ``uncancel()`` restores the request count, so ``asyncio.timeout`` and task groups
    still see exactly the cancellations they made.
    """
    task = _current_task()
    if task is not None:
        task.cancel()
        task.uncancel()


# --- cooperative budget ---------------------------------------------------------------
#
# Like Tokio's coop budget: a task that keeps completing operations that never wait
# yields to the loop at least every BUDGET of them. The counter is shared by every task
# of the process (a per-task counter would cost a dict lookup per operation); any task
# that really parks resets it. So a task may yield a little earlier than after 128 of its
# own operations, never later. Operations check the budget *before* they take effect, so
# the yield (a cancellation point) can never lose a completed operation's result.

BUDGET: Final = 128
_budget = [BUDGET]


def consume_budget() -> bool:
    """Count one ready operation; True when the caller must ``await coop_yield()`` first."""
    b = _budget
    b[0] -= 1
    return b[0] <= 0


def reset_budget() -> None:
    _budget[0] = BUDGET


async def coop_yield() -> None:
    """Yield to the event loop once (the budget ran out) and refill the budget."""
    _budget[0] = BUDGET
    await asyncio.sleep(0)


def check_blocking_allowed(method: str, async_form: str) -> None:
    """Raise RuntimeError if a ``blocking_*`` method is called on an event loop thread."""
    if _get_running_loop() is not None:
        raise RuntimeError(
            f"{method}() called on a thread that runs an event loop; it would freeze the "
            f"loop. Use '{async_form}' inside async code, or call {method}() from a plain "
            f"thread (e.g. one started with gokio.spawn_blocking)."
        )
