"""Every exception gokio raises, in one place.

The hierarchy::

    Exception
    ├── Closed                      channel closed (send: `.value` holds the unsent item;
    │                               recv: closed *and* drained)
    ├── WouldBlock                  a try_* call that would have to wait
    │   ├── Full                    try_send on a full channel (`.value` holds the item)
    │   └── Empty                   try_recv on an empty, open channel
    ├── Lagged                      broadcast receiver fell behind (`.skipped` messages lost)
    ├── TaskAborted                 awaiting a handle whose task was aborted
    └── Canceled                    gokio.context: the context was cancelled (Go's)
    TimeoutError
    ├── Elapsed                     a gokio timeout expired
    └── DeadlineExceeded            gokio.context: the context's deadline passed (Go's)
    RuntimeError
    └── Deadlock                    no task can ever make progress (message holds the dump)

Errors carry what the caller needs to lose nothing: a failed send hands its item back on
``.value`` (Tokio's ``SendError<T>(pub T)``).
"""

from __future__ import annotations

from typing import Any, final

__all__ = [
    "Canceled",
    "Closed",
    "Deadlock",
    "DeadlineExceeded",
    "Elapsed",
    "Empty",
    "Full",
    "Lagged",
    "TaskAborted",
    "WouldBlock",
]

_NO_VALUE: Any = object()


class Closed(Exception):
    """The channel (or primitive) is closed.

    On a send, ``value`` holds the item that was not delivered; on a receive the channel
    is closed *and* drained, and ``value`` is None.
    """

    def __init__(self, message: str = "channel closed", value: Any = None) -> None:
        super().__init__(message)
        self.value = value


class WouldBlock(Exception):
    """A ``try_*`` call found that it would have to wait."""


@final
class Full(WouldBlock):
    """``try_send`` found the channel full; ``value`` holds the item that was not sent."""

    def __init__(self, message: str = "channel full", value: Any = None) -> None:
        super().__init__(message)
        self.value = value


@final
class Empty(WouldBlock):
    """``try_recv`` found the channel empty (and still open)."""


@final
class Lagged(Exception):
    """A broadcast receiver fell behind and lost ``skipped`` messages.

    The next receive returns the oldest message still retained.
    """

    def __init__(self, skipped: int) -> None:
        super().__init__(f"receiver lagged behind and missed {skipped} message(s)")
        self.skipped = skipped


@final
class Elapsed(TimeoutError):
    """A gokio timeout expired (a ``TimeoutError``, so ``except TimeoutError`` catches it)."""


@final
class TaskAborted(Exception):
    """The awaited task was aborted before it finished."""


@final
class Deadlock(RuntimeError):
    """No task can ever make progress; the message holds the task dump."""


class Canceled(Exception):
    """A `gokio.context` context was cancelled by its cancel function (or an ancestor's).

    Exported as ``gokio.context.Canceled`` (Go's ``context.Canceled``).
    """

    def __init__(self, message: str = "context canceled") -> None:
        super().__init__(message)


class DeadlineExceeded(TimeoutError):
    """A `gokio.context` context's deadline passed (a ``TimeoutError``, as Go's is).

    Exported as ``gokio.context.DeadlineExceeded``.
    """

    def __init__(self, message: str = "context deadline exceeded") -> None:
        super().__init__(message)
