"""Go contexts: cancellation, deadlines and request-scoped values (Go's ``context``).

Typical use: ``ctx, cancel = context.with_timeout(context.background(), 5)``, pass
``ctx`` down to the work (which watches ``ctx.done()`` or uses ``await ctx.run(aw)``),
and call ``cancel()`` in a ``finally`` when the work is over.
"""

from __future__ import annotations

from ._context import (
    CancelCauseFunc,
    Canceled,
    CancelFunc,
    Context,
    DeadlineExceeded,
    Done,
    background,
    todo,
    with_cancel,
    with_cancel_cause,
    with_deadline,
    with_timeout,
    with_value,
    without_cancel,
)

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
