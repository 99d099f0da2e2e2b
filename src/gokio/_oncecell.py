"""`OnceCell[T]`: a value set at most once, with a race-free async initializer.

::

    config: OnceCell[Config] = OnceCell()
    cfg = await config.get_or_init(load_config)   # load_config runs once, ever

``get_or_init`` runs the initializer in the first caller's task; callers that arrive
while it runs wait for its result instead of starting their own (one initializer at a
time, even under concurrency, from tasks on any loop). If the initializer fails or its
caller is cancelled, the cell stays empty and the waiting callers race again: the first
of them to run becomes the next initializer. State is guarded by a `threading.Lock`.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from typing import Any, Final, Generic, TypeVar, final

from ._park import Parker

__all__ = ["OnceCell"]

T = TypeVar("T")

EMPTY: Final = 0
INITIALIZING: Final = 1
SET: Final = 2


@final
class OnceCell(Generic[T]):
    """A cell written once: by `set` or by the one running `get_or_init` initializer."""

    __slots__ = ("__weakref__", "_mu", "_state", "_value", "_waiters")

    def __init__(self) -> None:
        self._mu = threading.Lock()
        self._state = EMPTY
        self._value: Any = None
        self._waiters: list[Parker] = []

    def get(self) -> T | None:
        """The value, or None while the cell is empty (or being initialized)."""
        # `_value` is written before `_state` becomes SET (under _mu), so SET implies it.
        return self._value if self._state == SET else None

    def initialized(self) -> bool:
        """True once the cell holds a value."""
        return self._state == SET

    def set(self, value: T) -> None:
        """Set the value.

        Raises:
            RuntimeError: The cell already holds a value, or a `get_or_init`
                initializer is running.
        """
        with self._mu:
            if self._state == SET:
                raise RuntimeError(
                    f"OnceCell is already initialized (holding {self._value!r}); set() can "
                    f"succeed only once: check initialized() or use get_or_init()"
                )
            if self._state == INITIALIZING:
                raise RuntimeError(
                    "OnceCell is being initialized by a running get_or_init(); await "
                    "get_or_init() to get its value instead of setting one"
                )
            self._set(value)

    def _set(self, value: T) -> None:
        """Store the value and wake every waiter. Hold ``_mu``."""
        self._value = value
        self._state = SET
        waiters = self._waiters
        self._waiters = []
        for p in waiters:
            p.fire()

    async def get_or_init(self, init: Callable[[], Awaitable[T]]) -> T:
        """The value; if the cell is empty, run ``await init()`` once to make it.

        Args:
            init: An async function (or any callable returning an awaitable) taking no
                arguments. Only one runs at a time; its result is stored for everyone.

        Returns:
            The cell's value.

        Raises:
            Exception: Whatever ``init`` raised (the cell stays empty; the next waiting
                caller tries again).

        Cancel safety: cancel-safe. A cancelled waiter leaves no trace; a cancelled
        initializer leaves the cell empty and lets the next caller initialize.
        """
        while True:
            with self._mu:
                if self._state == SET:
                    return self._value  # type: ignore[no-any-return]
                if self._state == EMPTY:
                    self._state = INITIALIZING
                    break
                p = Parker("init", self)
                self._waiters.append(p)
            try:
                await p.wait()
            except BaseException:
                with self._mu:
                    if p.withdraw():
                        self._waiters.remove(p)
                # Fired: the cell was set, or its initializer failed and the others race
                # on; either way this waiter consumed nothing and can simply leave.
                raise
            # Woken: the value is set, or the initializer failed: look again.
        try:
            value = await init()
        except BaseException:
            with self._mu:
                self._state = EMPTY
                waiters = self._waiters
                self._waiters = []
                for p in waiters:  # they race again; the first to run initializes
                    p.fire()
            raise
        with self._mu:
            self._set(value)
        return value

    def __repr__(self) -> str:
        state = ("empty", "initializing", "set")[self._state]
        return f"<OnceCell {state}>"
