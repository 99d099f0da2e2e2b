"""Time: `Instant`, `sleep`, `sleep_until`, `timeout` and `timeout_at`.

Time is read from the running loop's clock (``loop.time()``, monotonic seconds) so that a
virtual-clock loop drives every gokio timer; outside a loop it is ``time.monotonic()``,
which is the same clock the default asyncio loop uses.
"""

from __future__ import annotations

import asyncio
import math
import sys
import time
from collections.abc import Awaitable, Generator
from types import TracebackType
from typing import Any, Generic, TypeVar, final, overload

from ._errors import Elapsed
from ._park import record_wait, reset_budget

__all__ = ["Instant", "Timeout", "check_seconds", "sleep", "sleep_until", "timeout", "timeout_at"]

T = TypeVar("T")

_get_running_loop = asyncio._get_running_loop
_CANCELLED = asyncio.CancelledError
_CLEARS_PENDING_CANCEL = sys.version_info >= (3, 13)  # uncancel() to 0 clears it there


def _now() -> float:
    loop = _get_running_loop()
    return loop.time() if loop is not None else time.monotonic()


def check_seconds(seconds: object, what: str = "seconds") -> float:
    """Validate a duration: a real number, not NaN, not negative. Returns it as float."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise TypeError(
            f"{what} must be a number of seconds (int or float), got {type(seconds).__name__}"
        )
    s = float(seconds)
    if math.isnan(s):
        raise ValueError(f"{what} must be a number of seconds, got NaN")
    if s < 0:
        raise ValueError(f"{what} must not be negative, got {seconds!r}; use 0 for 'now'")
    return s


@final
class Instant:
    """A point on the monotonic clock (Tokio's ``Instant``), in seconds.

    ``Instant.now() + 1.5`` is one and a half seconds from now; ``b - a`` of two instants
    is the float number of seconds between them.
    """

    __slots__ = ("_t",)

    def __init__(self, t: float) -> None:
        self._t = float(t)

    @classmethod
    def now(cls) -> Instant:
        """The current instant (the running loop's clock, or ``time.monotonic()``)."""
        return cls(_now())

    @property
    def seconds(self) -> float:
        """This instant as monotonic seconds (``loop.time()`` scale)."""
        return self._t

    def elapsed(self) -> float:
        """Seconds from this instant until now (negative if it lies in the future)."""
        return _now() - self._t

    def __add__(self, seconds: float) -> Instant:
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            return NotImplemented
        return Instant(self._t + seconds)

    __radd__ = __add__

    @overload
    def __sub__(self, other: Instant) -> float: ...
    @overload
    def __sub__(self, other: float) -> Instant: ...
    def __sub__(self, other: Instant | float) -> Instant | float:
        if isinstance(other, Instant):
            return self._t - other._t
        if isinstance(other, bool) or not isinstance(other, int | float):
            return NotImplemented
        return Instant(self._t - other)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Instant) and self._t == other._t

    def __lt__(self, other: Instant) -> bool:
        return self._t < other._t

    def __le__(self, other: Instant) -> bool:
        return self._t <= other._t

    def __gt__(self, other: Instant) -> bool:
        return self._t > other._t

    def __ge__(self, other: Instant) -> bool:
        return self._t >= other._t

    def __hash__(self) -> int:
        return hash(self._t)

    def __repr__(self) -> str:
        return f"Instant({self._t:.6f})"


async def sleep(seconds: float) -> None:
    """Wait ``seconds`` (Tokio's ``sleep``, Go's ``time.Sleep``).

    Raises:
        TypeError: ``seconds`` is not a number.
        ValueError: ``seconds`` is negative or NaN.

    Cancel safety: cancelling the sleep just ends it early; nothing else happens.
    """
    s = check_seconds(seconds)
    if s == 0:
        reset_budget()
        await asyncio.sleep(0)
        return
    with record_wait("sleep", s):
        await asyncio.sleep(s)


async def sleep_until(deadline: Instant) -> None:
    """Wait until ``deadline`` (returns at once if it has passed).

    Cancel safety: cancelling it just ends it early.
    """
    if not isinstance(deadline, Instant):
        raise TypeError(f"sleep_until() takes a gokio.Instant, got {type(deadline).__name__}")
    with record_wait("sleep", deadline):
        await asyncio.sleep(max(0.0, deadline.seconds - _now()))


@final
class Timeout(Generic[T]):
    """A deadline over a block (``async with``) or one awaitable (``await``).

    Made by `timeout` and `timeout_at`; see there.
    """

    __slots__ = ("_aw", "_cancelling", "_deadline", "_expired", "_handle", "_seconds", "_task")

    def __init__(self, deadline: float, aw: Awaitable[T] | None, seconds: float | None) -> None:
        self._deadline = deadline  # on the loop clock
        self._seconds = seconds
        self._aw = aw
        self._task: asyncio.Task[Any] | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._expired = False
        self._cancelling = 0

    def expired(self) -> bool:
        """True if the deadline passed while the block ran."""
        return self._expired

    def deadline(self) -> Instant:
        """The deadline of this timeout."""
        return Instant(self._deadline)

    async def __aenter__(self) -> Timeout[T]:
        if self._task is not None:
            raise RuntimeError("a gokio.timeout() block cannot be entered twice; make a new one")
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("gokio.timeout() must be used inside a task")
        self._task = task
        self._cancelling = task.cancelling()
        loop = asyncio.get_running_loop()
        self._handle = loop.call_at(self._deadline, self._on_deadline)
        return self

    def _on_deadline(self) -> None:
        self._expired = True
        self._handle = None
        assert self._task is not None
        self._task.cancel()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if not self._expired:
            return
        task = self._task
        assert task is not None
        remaining = task.uncancel()
        if remaining > self._cancelling:
            return  # someone else cancelled us too: let their CancelledError through
        if exc_type is _CANCELLED:
            if self._seconds is not None:
                raise Elapsed(f"timed out after {self._seconds:g} s") from exc
            raise Elapsed(f"deadline {self._deadline:.3f} (loop clock) passed") from exc
        # The block ended before our cancellation reached it: it completed, or a gokio op
        # took effect and re-armed it (and the op may then raise its own error, e.g.
        # Closed from a receive that close() fired). Python < 3.13 leaves the request
        # pending even though nobody wants it any more: take it here, where it is ours.
        if remaining == 0 and not _CLEARS_PENDING_CANCEL:
            pending: bool = task._must_cancel  # type: ignore[attr-defined]
            if not pending:
                return
            try:
                await asyncio.sleep(0)
            except _CANCELLED:
                # One CancelledError carries every pending request: if someone else
                # cancelled us during this yield, it is theirs too: never swallow it.
                if task.cancelling():
                    raise

    def __await__(self) -> Generator[Any, None, T]:
        if self._aw is None:
            raise TypeError("await gokio.timeout(seconds) needs an awaitable: timeout(s, aw)")
        return self._run().__await__()

    async def _run(self) -> T:
        aw = self._aw
        assert aw is not None  # checked by __await__
        async with self:
            return await aw
        raise AssertionError("unreachable")  # pragma: no cover - mypy needs it


@overload
def timeout(seconds: float) -> Timeout[None]: ...
@overload
def timeout(seconds: float, aw: Awaitable[T]) -> Timeout[T]: ...
def timeout(seconds: float, aw: Awaitable[Any] | None = None) -> Timeout[Any]:
    """Bound the time an awaitable or a block may take (Tokio's ``timeout``).

    ``await timeout(2, fetch())`` returns ``fetch()``'s result or raises `Elapsed` after
    cancelling it (and waiting for it to finish cancelling). ``async with timeout(2):``
    cancels the block instead. A cancellation from outside is never turned into
    `Elapsed` and never swallowed.

    Args:
        seconds: how long to allow (>= 0).
        aw: the awaitable to bound; omit it to use ``async with``.

    Raises:
        Elapsed: the time ran out (a ``TimeoutError``).
        TypeError, ValueError: ``seconds`` is not a non-negative number.

    Cancel safety: if ``aw`` completes just as the time runs out, its result is
    returned, not lost; a gokio operation that took effect is never reported as timed out.
    """
    try:
        s = check_seconds(seconds)
    except (TypeError, ValueError):
        _discard(aw)
        raise
    return Timeout(_now() + s, aw, s)


@overload
def timeout_at(deadline: Instant) -> Timeout[None]: ...
@overload
def timeout_at(deadline: Instant, aw: Awaitable[T]) -> Timeout[T]: ...
def timeout_at(deadline: Instant, aw: Awaitable[Any] | None = None) -> Timeout[Any]:
    """Like `timeout`, with an absolute `Instant` as the deadline."""
    return Timeout(_instant_seconds(deadline, aw), aw, None)


def _instant_seconds(deadline: object, aw: object) -> float:
    if not isinstance(deadline, Instant):
        _discard(aw)
        raise TypeError(f"timeout_at() takes a gokio.Instant, got {type(deadline).__name__}")
    return deadline.seconds


def _discard(aw: object) -> None:
    """Close a coroutine that bad arguments kept from running (no "never awaited" warning)."""
    if asyncio.iscoroutine(aw):
        aw.close()
