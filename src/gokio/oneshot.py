"""Tokio's oneshot channel: ``tx, rx = gokio.oneshot.channel()`` sends one value once."""

from __future__ import annotations

from ._oneshot import OneshotReceiver, OneshotSender, channel

__all__ = ["OneshotReceiver", "OneshotSender", "channel"]
