"""Go contexts: `Context` and its constructors (``background``, ``with_cancel``, ...).

A context carries a cancellation signal, an optional deadline and request-scoped values
down a call tree (Go's ``context`` package). Cancellable contexts are nodes of the
cancellation trees of ``_cancel.py``: cancelling a context cancels every context derived
from it, at once and from any thread, and its waiters, ``after_func`` callbacks and
``run`` calls all react before ``cancel()`` returns.

Contexts that can never be cancelled (``background()``, ``todo()``, ``without_cancel``)
share the `_NEVER` node, so a context derived from one of them starts a new tree with a
lock of its own: unrelated requests never contend on one lock.

Deadlines: a timer cancels the context with `DeadlineExceeded`. It runs on the event loop
that made the context (``loop.call_at``, on that loop's clock: a virtual-clock loop
drives it) or, made outside any loop, on a ``threading.Timer``. Cancelling the context
early cancels the timer too: nothing is left scheduled, and nothing keeps a finished
context alive.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final, TypeVar, final

from ._blocking import pool_thread
from ._cancel import (
    _Node,
    _WaitNode,
    add_callback,
    cancel_node,
    cancel_timer,
    init_node,
    remove_callback,
    run_until,
)
from ._errors import Canceled, DeadlineExceeded
from ._task import _is_async_callable, go
from ._time import Instant, check_seconds

__all__ = [
    "CancelCauseFunc",
    "CancelFunc",
    "Canceled",
    "Context",
    "DeadlineExceeded",
    "Done",
    "background",
    "todo",
    "with_cancel",
    "with_cancel_cause",
    "with_deadline",
    "with_timeout",
    "with_value",
    "without_cancel",
]

T = TypeVar("T")

logger = logging.getLogger("gokio")

_get_running_loop = asyncio._get_running_loop

CancelFunc = Callable[[], None]
CancelCauseFunc = Callable[[BaseException | None], None]


class _NoKey:
    __slots__ = ()


_NO_KEY: Final[Any] = _NoKey()

#: the node of every context that can never be cancelled; only ``done()`` waiters use it
_NEVER: Final = _Node()
init_node(_NEVER, None)


@final
class Done(_WaitNode):
    """``ctx.done()``: completes (with None) once the context is done.

    Cancel safety: waiting has no effect on the context; cancelling the wait just ends it.
    """

    __slots__ = ()
    kind = "ctx.done"


@final
class Context:
    """A Go context: cancellation, deadline and values for one scope of work.

    Made by `background`, `todo` and the ``with_*`` functions, never directly. A
    context is immutable and thread-safe; share it freely between tasks and threads.
    """

    __slots__ = ("_deadline", "_key", "_name", "_node", "_parent", "_value")

    def __init__(
        self,
        node: _Node,
        parent: Context | None,
        deadline: Instant | None,
        name: str,
        key: Any = _NO_KEY,
        value: Any = None,
    ) -> None:
        self._node = node
        self._parent = parent
        self._deadline = deadline
        self._name = name
        self._key = key
        self._value = value

    def value(self, key: Any) -> Any:
        """The value bound to ``key`` by this context or the nearest ancestor; else None."""
        c: Context | None = self
        while c is not None:
            k = c._key
            if k is not _NO_KEY and (k is key or k == key):
                return c._value
            c = c._parent
        return None

    def done(self) -> Done:
        """Wait until this context is done (cancelled or past its deadline).

        Lazy: usable as a `gokio.select` case. Never completes for ``background()``.

        Cancel safety: cancelling the wait has no effect on the context.
        """
        return Done(self._node, self)

    def blocking_done(self) -> None:
        """`done` for plain threads: parks the thread until the context is done.

        Raises:
            RuntimeError: called on a thread that runs an event loop.
        """
        self.done().blocking("blocking_done", "await ctx.done()")

    def err(self) -> Canceled | DeadlineExceeded | None:
        """None while the context is live; then `Canceled` or `DeadlineExceeded`.

        The same instance is returned every time once the context is done.
        """
        return self._node._reason  # type: ignore[no-any-return]

    def cause(self) -> BaseException | None:
        """Why the context is done: the cause given to a ``with_cancel_cause`` cancel
        function (or an `ErrGroup`'s first error), else the same as `err`; None while live.
        """
        return self._node._cause

    def deadline(self) -> Instant | None:
        """When this context will be cancelled by a deadline (its own or an ancestor's)."""
        return self._deadline

    def after_func(self, fn: Callable[[], Any]) -> Callable[[], bool]:
        """Arrange for ``fn()`` to run once this context is done (Go's ``AfterFunc``).

        ``fn`` runs as ``gokio.go(fn)`` would run it: an async function as a task on the
        loop where ``after_func`` was called, a plain function on the blocking pool (or,
        registered outside any gokio runtime, on a new thread). If the context is done
        already, ``fn`` is started at once. The context stays alive while ``fn`` is
        registered, even if nothing else references it.

        Returns:
            ``stop()``: unregisters ``fn``; True if that prevented ``fn`` from running,
            False if it had already been started (or stopped).

        Raises:
            TypeError: ``fn`` is not callable.
            RuntimeError: ``fn`` is async but there is no event loop to run it on.
        """
        _check_callable(fn)
        loop = _get_running_loop() or pool_thread.loop
        if loop is None and _is_async_callable(fn):
            raise RuntimeError(
                "after_func() got an async function but no event loop runs here to run it "
                "on; call after_func() inside async code or pass a plain function"
            )
        node = self._node
        if node is _NEVER:
            return _StopOnce()
        later = _Later(fn, loop)
        key = add_callback(node, later.start, pin=True)
        if key is None:
            later.start()
            return _stopped
        return lambda: remove_callback(node, key)

    async def run(self, aw: Awaitable[T]) -> T:
        """Run ``aw``; if this context is done first, cancel ``aw`` and raise `err`.

        Returns:
            ``aw``'s result.

        Raises:
            Canceled, DeadlineExceeded: the context was done before ``aw`` finished
                (``aw`` has been cancelled and awaited; a coroutine is not started at
                all if the context was done already). Raised from `cause` when the
                cause is another exception.
            Exception: whatever ``aw`` raises.

        Cancel safety: cancelling the call cancels ``aw``; the context is not affected.
        """
        node = self._node
        if node is _NEVER:  # nothing can interrupt it: no callback to register
            return await aw
        finished, result = await run_until(node, aw)
        if finished:
            return result  # type: ignore[return-value]
        err = node._reason
        cause = node._cause
        fresh = type(err)(*err.args)  # a fresh instance: err() keeps a clean traceback
        raise fresh from (cause if cause is not err else None)

    def __repr__(self) -> str:
        err = self._node._reason
        state = f" done: {err}" if err is not None else ""
        return f"<gokio.context.Context {self._name}{state}>"


def _check_callable(fn: object) -> None:
    if callable(fn):
        return
    if asyncio.iscoroutine(fn):
        fn.close()
        raise TypeError("after_func() takes a function, not a coroutine object")
    raise TypeError(f"after_func() takes a function, got {type(fn).__name__}")


def _stopped() -> bool:
    return False


@final
class _StopOnce:
    """``stop`` for a context that can never be done: True once (it prevented fn)."""

    __slots__ = ("_used",)

    def __init__(self) -> None:
        self._used = False

    def __call__(self) -> bool:
        used, self._used = self._used, True
        return not used


def _go_logged(fn: Callable[[], Any]) -> None:
    try:
        go(fn)
    except Exception:
        logger.exception("gokio: could not start the after_func callback %r", fn)


@final
class _Later:
    """Starts an ``after_func`` callback as ``gokio.go`` would, from any thread."""

    __slots__ = ("fn", "loop")

    def __init__(self, fn: Callable[[], Any], loop: asyncio.AbstractEventLoop | None) -> None:
        self.fn = fn
        self.loop = loop

    def start(self) -> None:
        loop = self.loop
        if loop is not None:
            if _get_running_loop() is loop:
                _go_logged(self.fn)
                return
            try:
                loop.call_soon_threadsafe(_go_logged, self.fn)
                return
            except RuntimeError:  # the loop that registered it is closed
                if _is_async_callable(self.fn):
                    logger.error(
                        "gokio: after_func callback %r not run: its event loop is closed",
                        self.fn,
                    )
                    return
        threading.Thread(target=self.fn, name="gokio-after-func", daemon=True).start()


# --- constructors ----------------------------------------------------------------------------

_BACKGROUND: Final = Context(_NEVER, None, None, "background")
_PLACEHOLDER: Final = Context(_NEVER, None, None, "todo")


def background() -> Context:
    """The root context: never cancelled, no deadline, no values (Go's ``Background``)."""
    return _BACKGROUND


def todo() -> Context:
    """Like `background`; marks a place where the right context is not yet plumbed in."""
    return _PLACEHOLDER


def _check_parent(parent: object, fn: str) -> Context:
    if not isinstance(parent, Context):
        raise TypeError(
            f"{fn}() takes a gokio.context.Context as parent, got {type(parent).__name__}; "
            f"start from context.background()"
        )
    return parent


def _child(parent: Context, deadline: Instant | None, name: str) -> Context:
    node = _Node()
    pnode = parent._node
    init_node(node, None if pnode is _NEVER else pnode)
    return Context(node, parent, deadline, name)


def _cancel_func(node: _Node) -> CancelFunc:
    def cancel() -> None:
        """Cancel the context and its descendants (idempotent, thread-safe)."""
        if node._reason is None:
            err = Canceled()
            cancel_node(node, err, err)

    return cancel


def with_cancel(parent: Context) -> tuple[Context, CancelFunc]:
    """A child of ``parent`` and a function that cancels it (Go's ``WithCancel``).

    ``cancel()`` is idempotent and thread-safe; once it returns, the child and all its
    descendants are done with `Canceled`. Call it when the work is over, even on
    success, to release the context (and its timer, if it has a deadline).
    """
    parent = _check_parent(parent, "with_cancel")
    ctx = _child(parent, parent._deadline, "with_cancel")
    return ctx, _cancel_func(ctx._node)


def with_cancel_cause(parent: Context) -> tuple[Context, CancelCauseFunc]:
    """Like `with_cancel`, but ``cancel(cause)`` records why (Go's ``WithCancelCause``).

    ``ctx.err()`` is then `Canceled` and ``ctx.cause()`` is ``cause`` (or the `Canceled`
    error when ``cause`` is None).
    """
    parent = _check_parent(parent, "with_cancel_cause")
    ctx = _child(parent, parent._deadline, "with_cancel_cause")
    node = ctx._node

    def cancel(cause: BaseException | None = None) -> None:
        """Cancel the context with ``cause`` (idempotent: the first cause wins)."""
        if cause is not None and not isinstance(cause, BaseException):
            raise TypeError(
                f"cancel(cause): cause must be an exception, got {type(cause).__name__}"
            )
        if node._reason is None:
            err = Canceled()
            cancel_node(node, err, err if cause is None else cause)

    return ctx, cancel


def _expire(node: _Node) -> None:
    err = DeadlineExceeded()
    cancel_node(node, err, err)


def with_deadline(parent: Context, deadline: Instant) -> tuple[Context, CancelFunc]:
    """A child of ``parent`` that is cancelled at ``deadline`` (Go's ``WithDeadline``).

    A child never outlives its parent's deadline: if the parent's is earlier, that one
    applies (``ctx.deadline()`` reports it). At the deadline the context is done with
    `DeadlineExceeded`; ``cancel()`` ends it earlier with `Canceled` and removes its timer.

    Raises:
        TypeError: ``deadline`` is not a `gokio.Instant`.
    """
    parent = _check_parent(parent, "with_deadline")
    if not isinstance(deadline, Instant):
        raise TypeError(
            f"with_deadline() takes a gokio.Instant, got {type(deadline).__name__}; "
            f"use with_timeout(parent, seconds) for a duration"
        )
    pd = parent._deadline
    if pd is not None and pd <= deadline:
        ctx = _child(parent, pd, "with_deadline")  # the parent's deadline comes first
        return ctx, _cancel_func(ctx._node)
    ctx = _child(parent, deadline, "with_deadline")
    node = ctx._node
    cancel = _cancel_func(node)
    if node._reason is not None:  # born cancelled
        return ctx, cancel
    loop = _get_running_loop()
    remaining = deadline.seconds - (loop.time() if loop is not None else time.monotonic())
    if remaining <= 0:
        _expire(node)
        return ctx, cancel
    timer: Any
    if loop is not None:
        timer = (loop, loop.call_at(deadline.seconds, _expire, node))
    else:
        timer = threading.Timer(remaining, _expire, (node,))
        timer.daemon = True
    with node._lock:
        armed = node._reason is None  # a parent may have been cancelled meanwhile
        if armed:
            node._timer = timer
    if not armed:
        if loop is not None:
            cancel_timer(timer)
    elif loop is None:
        timer.start()
    return ctx, cancel


def with_timeout(parent: Context, seconds: float) -> tuple[Context, CancelFunc]:
    """``with_deadline(parent, Instant.now() + seconds)`` (Go's ``WithTimeout``).

    Raises:
        TypeError, ValueError: ``seconds`` is not a non-negative number.
    """
    parent = _check_parent(parent, "with_timeout")
    s = check_seconds(seconds)
    return with_deadline(parent, Instant.now() + s)


def with_value(parent: Context, key: Any, value: Any) -> Context:
    """A child of ``parent`` in which ``ctx.value(key)`` is ``value`` (Go's ``WithValue``).

    It shares ``parent``'s cancellation and deadline. Keys are compared with ``==``; use
    a private object or class as key so that packages cannot collide.

    Raises:
        TypeError: ``key`` is None.
    """
    parent = _check_parent(parent, "with_value")
    if key is None:
        raise TypeError("with_value() key must not be None; use a private object as the key")
    return Context(parent._node, parent, parent._deadline, "with_value", key, value)


def without_cancel(parent: Context) -> Context:
    """A child that keeps ``parent``'s values but is never cancelled and has no deadline.

    (Go's ``WithoutCancel``: for work that must finish even when the request is over.)
    """
    parent = _check_parent(parent, "without_cancel")
    return Context(_NEVER, parent, None, "without_cancel")
