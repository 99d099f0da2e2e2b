"""Cancellation trees: `CancellationToken`, and the node that Go contexts are built on.

A *node* is one scope that can be cancelled once. Nodes form a tree: cancelling a node
cancels its whole subtree, never its ancestors; a node created under an already-cancelled
parent is born cancelled. The same machinery backs `CancellationToken` (Tokio's) and the
cancellable contexts of `gokio.context` (Go's).

Locking: every node of one tree shares the root's ``threading.Lock``. Cancelling a
subtree therefore marks every descendant under one lock acquisition, so no observer, on
any thread, can see a parent cancelled and a child not (``cancel()`` "has reached every
descendant" before it returns). Unrelated trees never contend.

Memory: a parent must not keep a child alive (a server's root token would otherwise
accumulate every request's child token forever), but a child must keep its parent alive
(it is cancelled *through* the parent). So parents hold children through weak references
and children hold their parent strongly. Dead weak references are pruned lazily when the
child table has doubled, not from weakref callbacks: a callback can run during garbage
collection on any thread, even one that already holds the tree lock, and would deadlock.
A node that has *callbacks* (``after_func``) must run them even if nobody else references
it, so it is "pinned": its parent holds it strongly while it has callbacks, and the pin
propagates to the root (``_pins`` counts the node's pinning callbacks plus its pinned
children).

A cancelled node drops its waiters, callbacks, children and parent link: it keeps only
its reason, so a cancelled subtree is ordinary garbage as soon as nobody holds it.

Waking: parked waiters (``await token.cancelled()``, ``await ctx.done()``, or a select
with such a case) are fired under the lock (``Parker.fire`` only schedules the wake-up);
callbacks and timer cancellation run after the lock is released, on the cancelling
thread, before ``cancel()`` returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import logging
import sys
import threading
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Final, TypeVar, final
from weakref import ref

from ._op import NOT_READY, Op
from ._park import Parker

__all__ = ["CancellationToken", "DropGuard", "WaitForCancellation"]

T = TypeVar("T")

logger = logging.getLogger("gokio")

_get_running_loop = asyncio._get_running_loop
_current_task = asyncio.current_task
_CancelledError = asyncio.CancelledError
_keys = itertools.count(1)
_CLEARS_PENDING_CANCEL: Final = sys.version_info >= (3, 13)

#: the smallest child table that is ever scanned for dead entries
_PRUNE_MIN: Final = 16


class _Node:
    """One cancellable scope in a tree (see the module docstring)."""

    __slots__ = (
        "__weakref__",
        "_callbacks",
        "_cause",
        "_children",
        "_lock",
        "_parent",
        "_pinned",
        "_pins",
        "_prune_at",
        "_reason",
        "_timer",
        "_waiters",
    )

    _lock: threading.Lock
    #: None while live; what cancelled it once cancelled (True for tokens, the error
    #: instance for contexts). Written once, under the lock; read without it.
    _reason: Any
    _cause: BaseException | None
    _parent: _Node | None
    #: id(child) -> weak reference, for every live child (and some dead ones)
    _children: dict[int, ref[_Node]] | None
    #: id(child) -> child, for the children that must stay alive (they have callbacks)
    _pinned: dict[int, _Node] | None
    _pins: int
    _prune_at: int
    #: parked parties -> the select case index they wait as
    _waiters: dict[Parker, int] | None
    #: key -> (callback, pins)
    _callbacks: dict[int, tuple[Callable[[], None], bool]] | None
    #: what cancels this node at its deadline: a threading.Timer or (loop, TimerHandle)
    _timer: Any


def init_node(node: _Node, parent: _Node | None) -> None:
    """Initialise ``node`` as a root (``parent`` None) or as a child of ``parent``."""
    node._cause = None
    node._parent = None
    node._children = None
    node._pinned = None
    node._pins = 0
    node._prune_at = _PRUNE_MIN
    node._waiters = None
    node._callbacks = None
    node._timer = None
    if parent is None:
        node._lock = threading.Lock()
        node._reason = None
        return
    lock = node._lock = parent._lock
    with lock:
        if parent._reason is not None:  # born cancelled, for the same reason
            node._reason = parent._reason
            node._cause = parent._cause
            return
        node._reason = None
        node._parent = parent
        children = parent._children
        if children is None:
            children = parent._children = {}
        # A dead child's id may be reused by this one: overwriting its entry is harmless.
        children[id(node)] = ref(node)
        if len(children) > parent._prune_at:
            for k in [k for k, r in children.items() if r() is None]:
                del children[k]
            parent._prune_at = max(_PRUNE_MIN, 2 * len(children))


def _add_pin(node: _Node) -> None:
    """Count one more pin on ``node``; pin it (and, transitively, its ancestors)."""
    n: _Node | None = node
    while n is not None:
        n._pins += 1
        if n._pins > 1:
            return
        parent = n._parent
        if parent is None:
            return
        pinned = parent._pinned
        if pinned is None:
            pinned = parent._pinned = {}
        pinned[id(n)] = n
        n = parent


def _remove_pin(node: _Node) -> None:
    """Undo one `_add_pin`: unpin the nodes that no longer have any reason to be pinned."""
    n: _Node | None = node
    while n is not None:
        n._pins -= 1
        if n._pins:
            return
        parent = n._parent
        if parent is None:
            return
        del parent._pinned[id(n)]  # type: ignore[union-attr]
        n = parent


def add_callback(node: _Node, cb: Callable[[], None], *, pin: bool) -> int | None:
    """Run ``cb()`` when ``node`` is cancelled. Returns a key, or None if already cancelled.

    ``pin``: keep the node alive while the callback is registered (the callback is the
    only thing that would observe the cancellation). Callbacks run on the cancelling
    thread, outside the lock: they must be quick and thread-safe.
    """
    with node._lock:
        if node._reason is not None:
            return None
        cbs = node._callbacks
        if cbs is None:
            cbs = node._callbacks = {}
        key = next(_keys)
        cbs[key] = (cb, pin)
        if pin:
            _add_pin(node)
        return key


def remove_callback(node: _Node, key: int) -> bool:
    """Unregister a callback. True if it was still registered (so it will never run)."""
    with node._lock:
        cbs = node._callbacks
        if cbs is None:
            return False
        entry = cbs.pop(key, None)
        if entry is None:
            return False
        if entry[1]:
            _remove_pin(node)
        return True


def cancel_node(node: _Node, reason: Any, cause: BaseException | None) -> bool:
    """Cancel ``node`` and its whole subtree. False if it was already cancelled."""
    callbacks: list[Callable[[], None]] = []
    timers: list[Any] = []
    with node._lock:
        if node._reason is not None:
            return False
        parent = node._parent
        if parent is not None:
            # Detach, so the live parent neither keeps nor revisits a cancelled subtree.
            parent._children.pop(id(node), None)  # type: ignore[union-attr]
            if node._pins:
                del parent._pinned[id(node)]  # type: ignore[union-attr]
                _remove_pin(parent)
        stack = [node]
        while stack:
            n = stack.pop()
            n._reason = reason
            n._cause = cause
            n._parent = None
            waiters = n._waiters
            if waiters:
                for p, index in waiters.items():
                    p.fire(None, index)
            n._waiters = None
            cbs = n._callbacks
            if cbs:
                callbacks.extend(cb for cb, _ in cbs.values())
            n._callbacks = None
            if n._timer is not None:
                timers.append(n._timer)
                n._timer = None
            children = n._children
            if children:
                for r in children.values():
                    c = r()
                    if c is not None:
                        stack.append(c)
            n._children = None
            n._pinned = None
            n._pins = 0
    for t in timers:
        cancel_timer(t)
    for cb in callbacks:
        try:
            cb()
        except Exception:  # a callback must not stop the others (nor the canceller)
            logger.exception("gokio: a cancellation callback failed")
    return True


def cancel_timer(timer: Any) -> None:
    """Cancel a ``threading.Timer``, or a ``(loop, TimerHandle)`` pair, from any thread."""
    if isinstance(timer, threading.Timer):
        timer.cancel()
        return
    loop, handle = timer  # uvloop's handles do not expose their loop: it is kept alongside
    if _get_running_loop() is loop:
        handle.cancel()
        return
    with contextlib.suppress(RuntimeError):  # a closed loop will never run the handle
        loop.call_soon_threadsafe(handle.cancel)


# --- waiting ------------------------------------------------------------------------------


class _WaitNode(Op[None]):
    """Wait until a node is cancelled: a lazy op, usable as a `select` case."""

    __slots__ = ("_node", "_owner")

    def __init__(self, node: _Node, owner: object) -> None:
        self._node = node
        self._owner = owner

    def _lock(self) -> threading.Lock:
        return self._node._lock

    def _obj(self) -> object:
        return self._owner

    def _try(self) -> Any:
        return None if self._node._reason is not None else NOT_READY

    def _park(self, parker: Parker, index: int) -> None:
        node = self._node
        waiters = node._waiters
        if waiters is None:
            waiters = node._waiters = {}
        waiters[parker] = index

    def _unpark(self, parker: Parker) -> None:
        waiters = self._node._waiters
        if waiters:
            waiters.pop(parker, None)


@final
class WaitForCancellation(_WaitNode):
    """``token.cancelled()``: completes (with None) once the token is cancelled.

    Cancel safety: waiting has no effect on the token; cancelling the wait just ends it.
    """

    __slots__ = ()
    kind = "cancelled"


class _RunState:
    """Cancels one task, at most once, when a node is cancelled (``run_until``)."""

    __slots__ = ("finished", "loop", "requested", "task")

    def __init__(self, loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any]) -> None:
        self.loop = loop
        self.task = task
        self.requested = False
        self.finished = False

    def trigger(self) -> None:
        """Node callback: runs on the cancelling thread."""
        if _get_running_loop() is self.loop:
            self.cancel_task()
            return
        with contextlib.suppress(RuntimeError):  # a closed loop cannot run the task any more
            self.loop.call_soon_threadsafe(self.cancel_task)

    def cancel_task(self) -> None:
        # On the loop thread, as is ``finished``: the run cannot end between the check
        # and the cancel, so a late trigger never cancels a task that moved on.
        if not self.finished:
            self.requested = True
            self.task.cancel("cancelled by a gokio cancellation token or context")


async def run_until(node: _Node, aw: Awaitable[T]) -> tuple[bool, T | None]:
    """Await ``aw`` in the current task, interrupting it when ``node`` is cancelled.

    Returns ``(True, result)`` if ``aw`` finished, ``(False, None)`` if the cancellation
    of ``node`` interrupted it (``aw`` was cancelled and has finished cancelling). A
    coroutine is not started at all if ``node`` is already cancelled.

    Like ``asyncio.timeout``, it cancels the *current* task (no extra task) and counts
    the cancellation requests, so a cancellation from elsewhere is never swallowed.
    """
    is_coro = asyncio.iscoroutine(aw)
    if not is_coro and not inspect.isawaitable(aw):
        raise TypeError(
            f"expected an awaitable (e.g. a coroutine: work()), got {type(aw).__name__}"
        )
    if node._reason is not None and is_coro:
        aw.close()  # type: ignore[attr-defined]
        return False, None
    task = _current_task() if _get_running_loop() is not None else None
    if task is None:
        if is_coro:
            aw.close()  # type: ignore[attr-defined]
        raise RuntimeError("run_until_cancelled() / ctx.run() must be awaited inside a task")
    state = _RunState(asyncio.get_running_loop(), task)
    cancelling = task.cancelling()
    key = add_callback(node, state.trigger, pin=False)
    if key is None:  # cancelled meanwhile, or `aw` is a future: cancel it at its first await
        state.cancel_task()
    try:
        result = await aw
    except _CancelledError:
        if state.requested and task.uncancel() <= cancelling:
            return False, None
        raise
    finally:
        state.finished = True
        if key is not None:
            remove_callback(node, key)
    # `aw` finished although we asked it to stop (it swallowed the cancellation, or a
    # gokio op that had taken effect re-armed it): its result is returned, not lost, and
    # our request is withdrawn so the caller's next await is not cancelled by it.
    if (
        state.requested
        and task.uncancel() <= cancelling
        and not _CLEARS_PENDING_CANCEL
        and task._must_cancel  # type: ignore[attr-defined]
    ):
        try:
            await asyncio.sleep(0)  # take our pending request (Python < 3.13 keeps it)
        except _CancelledError:
            if task.cancelling() > cancelling:
                raise  # someone else cancelled the caller meanwhile: theirs to deliver
    return True, result


# --- the token ------------------------------------------------------------------------------


@final
class CancellationToken(_Node):
    """A cancellation signal that can be shared and subdivided (Tokio's ``CancellationToken``).

    ``cancel()`` may be called any number of times, from any thread. Child tokens
    (`child_token`) are cancelled with their parent (at once, as one step) but never
    the other way round; a child made after its parent was cancelled is born cancelled.
    A child that nobody references any more is garbage-collected: the parent does not
    keep it alive.
    """

    __slots__ = ()

    def __init__(self) -> None:
        init_node(self, None)

    def cancel(self) -> None:
        """Cancel this token and every descendant (idempotent, thread-safe).

        Every waiter is woken and every child is cancelled before this returns.
        """
        cancel_node(self, True, None)

    def is_cancelled(self) -> bool:
        """True once this token (or an ancestor) was cancelled."""
        return self._reason is not None

    def cancelled(self) -> WaitForCancellation:
        """Wait until this token is cancelled (returns at once if it is).

        Lazy: usable as a `gokio.select` case, e.g. to stop a worker loop gracefully.

        Cancel safety: cancelling the wait has no effect on the token.
        """
        return WaitForCancellation(self, self)

    def blocking_cancelled(self) -> None:
        """`cancelled` for plain threads: parks the thread until the token is cancelled.

        Raises:
            RuntimeError: called on a thread that runs an event loop.
        """
        self.cancelled().blocking("blocking_cancelled", "await token.cancelled()")

    def child_token(self) -> CancellationToken:
        """A new token that is cancelled when this one is (not the other way round)."""
        child: CancellationToken = object.__new__(CancellationToken)
        init_node(child, self)
        return child

    def drop_guard(self) -> DropGuard:
        """A context manager that cancels this token when its block exits (Tokio's DropGuard).

        ``guard.disarm()`` inside the block keeps the token from being cancelled on exit.
        """
        return DropGuard(self)

    async def run_until_cancelled(self, aw: Awaitable[T]) -> T | None:
        """Run ``aw`` until it finishes or this token is cancelled, whichever comes first.

        Returns:
            ``aw``'s result; or None if the token was cancelled first, in which case
            ``aw`` was cancelled and awaited (a coroutine not yet started is not run at
            all). If ``aw`` ignores the cancellation and still returns a value, that
            value is returned rather than lost.

        Raises:
            Exception: whatever ``aw`` raises.
            asyncio.CancelledError: the calling task is cancelled.

        Cancel safety: cancelling the call cancels ``aw`` (as awaiting it directly would);
        the token is not affected.
        """
        return (await run_until(self, aw))[1]

    def __repr__(self) -> str:
        state = "cancelled" if self._reason is not None else "active"
        return f"<gokio.CancellationToken {state}>"


@final
class DropGuard:
    """Cancels its token when the ``with`` block exits, unless `disarm`-ed first."""

    __slots__ = ("_token",)

    def __init__(self, token: CancellationToken) -> None:
        self._token: CancellationToken | None = token

    def __enter__(self) -> DropGuard:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        token = self._token
        if token is not None:
            self._token = None
            token.cancel()

    def disarm(self) -> CancellationToken:
        """Keep the token from being cancelled on exit, and return it.

        Raises:
            RuntimeError: the guard was already disarmed, or its block already exited.
        """
        token = self._token
        if token is None:
            raise RuntimeError(
                "this DropGuard was already disarmed or its block has exited; "
                "make a new one with token.drop_guard()"
            )
        self._token = None
        return token

    def __repr__(self) -> str:
        state = "armed" if self._token is not None else "disarmed"
        return f"<gokio.DropGuard {state}>"
