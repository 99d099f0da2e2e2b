"""Tokio's broadcast channel: ``tx, rx = gokio.broadcast.channel(capacity)``.

Every receiver sees every message; a receiver that falls ``capacity`` messages behind
gets `gokio.Lagged` and resumes from the oldest message still retained.
"""

from __future__ import annotations

from ._broadcast import BroadcastReceiver, BroadcastSender, channel

__all__ = ["BroadcastReceiver", "BroadcastSender", "channel"]
