"""`Op`: the lazy, awaitable operation that every channel op is, and that `select` drives.

``ch.recv()`` does nothing by itself: it returns an `Op`. Awaiting it runs the op;
passing it to `gokio.select` makes it one case of the select. The select commit protocol
needs each op to expose four steps, each called with the op's primitive lock held:

``_try()``
    If the op can complete now, complete it (take the item, hand it to a parked
    receiver, ...) and return its raw result; otherwise return `NOT_READY`. It may raise
    (e.g. `Closed` on a closed, drained channel).
``_park(parker, index)``
    Queue ``parker`` on the primitive as case ``index``. A counterparty that later
    completes the op *for* the parked party does so with ``parker.fire(raw, index)``
    while holding the same lock: the op takes effect exactly when the fire succeeds.
``_unpark(parker)``
    Remove ``parker`` from the primitive's queues (it was withdrawn or another case won).
``_finish(raw)``
    Outside the lock: turn the raw result into the op's value, or raise (e.g. a parked
    receive fired by ``close()`` gets a marker and raises `Closed`).

Because a counterparty performs the op on behalf of a parked party (hand-off, as in Go's
``sudog``), an op that fired has already taken effect: the awaiting side returns its
value even if a cancellation lands at that moment (see ``_park.rearm_cancel``).

Subclasses override `__await__` with a specialised fast path when it pays; the generic
one below is correct for any op.

Coroutine ops. Awaiting an object through its ``__await__`` costs a Python call from C
and a generator per await; awaiting a coroutine costs neither (the interpreter runs it
inline). So the hottest ops (``ch.send``, ``ch.recv`` ...) are ``async def`` methods with
the ready path inlined, and are registered with `coroutine_op`: `select` turns such a
coroutine, not yet started, back into the equivalent `Op` (built from its arguments)
and drives it through the protocol above. Ops stay lazy either way: an
unawaited coroutine does nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Mapping
from types import CodeType
from typing import Any, Final, Generic, TypeVar

from ._park import Parker, consume_budget, coop_yield, rearm_cancel

__all__ = ["NOT_READY", "Op", "coroutine_op"]

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

#: code object of a registered ``async def`` op -> makes the Op from the coroutine's args
_CORO_OPS: dict[CodeType, Callable[[Mapping[str, Any]], Op[Any]]] = {}


def coroutine_op(make: Callable[[Mapping[str, Any]], Op[Any]]) -> Callable[[F], F]:
    """Register an ``async def`` op method: ``make(args)`` builds the equivalent `Op`.

    ``args`` maps the method's parameter names (``self`` included) to the values the
    coroutine was created with.
    """

    def register(fn: F) -> F:
        _CORO_OPS[fn.__code__] = make
        return fn

    return register


class _NotReady:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NOT_READY"


#: returned by `Op._try` when the op would have to wait
NOT_READY: Final[Any] = _NotReady()


class Op(Generic[T]):
    """Base of lazy awaitable operations usable as `select` cases."""

    __slots__ = ()

    #: what a parked op waits on, for diagnostics ("recv", "send", ...)
    kind: str = "op"

    def _lock(self) -> threading.Lock:
        raise TypeError(f"{type(self).__name__} must define this Op step")

    def _obj(self) -> object:
        """The primitive this op works on (recorded as what a parked task waits on)."""
        raise TypeError(f"{type(self).__name__} must define this Op step")

    def _try(self) -> Any:
        raise TypeError(f"{type(self).__name__} must define this Op step")

    def _park(self, parker: Parker, index: int) -> None:
        raise TypeError(f"{type(self).__name__} must define this Op step")

    def _unpark(self, parker: Parker) -> None:
        raise TypeError(f"{type(self).__name__} must define this Op step")

    def _finish(self, raw: Any) -> T:
        return raw  # type: ignore[no-any-return]

    def __await__(self) -> Generator[Any, None, T]:
        if consume_budget():
            yield from coop_yield().__await__()
        lock = self._lock()
        with lock:
            raw = self._try()
            if raw is NOT_READY:
                p = Parker(self.kind, self._obj())
                self._park(p, 0)
        if raw is not NOT_READY:
            return self._finish(raw)
        try:
            yield from p.wait().__await__()
        except BaseException:
            with lock:
                if p.withdraw():
                    self._unpark(p)
                    raise
            rearm_cancel()  # it fired first: the op took effect, report it
        return self._finish(p.value)

    def blocking(self, method: str, async_form: str) -> T:
        """Run the op on a plain thread, parking the thread (``blocking_*`` methods)."""
        from ._park import check_blocking_allowed

        check_blocking_allowed(method, async_form)
        lock = self._lock()
        with lock:
            raw = self._try()
            if raw is not NOT_READY:
                p = None
            else:
                p = Parker(self.kind, self._obj())
                self._park(p, 0)
        if p is None:
            return self._finish(raw)
        p.wait_blocking()
        return self._finish(p.value)
