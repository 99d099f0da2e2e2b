"""Tokio's watch channel: ``tx, rx = gokio.watch.channel(initial)`` shares a latest value.

Receivers are told when the value changes (``await rx.changed()``) and read it with
``borrow()`` / ``borrow_and_update()``.
"""

from __future__ import annotations

from ._watch import WatchReceiver, WatchSender, channel

__all__ = ["WatchReceiver", "WatchSender", "channel"]
