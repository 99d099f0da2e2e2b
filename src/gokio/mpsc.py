"""Tokio's multi-producer, single-consumer channel.

``tx, rx = gokio.mpsc.channel(capacity)`` (bounded) or ``gokio.mpsc.unbounded_channel()``.
See `Sender`, `Receiver` and `Permit`.
"""

from __future__ import annotations

from ._mpsc import Permit, Receiver, Sender, channel, unbounded_channel

__all__ = ["Permit", "Receiver", "Sender", "channel", "unbounded_channel"]
