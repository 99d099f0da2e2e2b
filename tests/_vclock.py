"""A virtual-time event loop for deterministic tests of timeouts and intervals.

When the loop would block waiting for its next timer, and no I/O is ready, the clock jumps
straight to that timer instead of sleeping (trio's ``MockClock(autojump_threshold=0)``,
Tokio's ``time::pause()``). Tests that need plain threads to wake the loop use a real loop.
"""

from __future__ import annotations

import asyncio
import selectors
from typing import Any


class _JumpingSelector(selectors.DefaultSelector):
    def __init__(self) -> None:
        super().__init__()
        self.loop: VirtualClockLoop | None = None

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        events: list[tuple[selectors.SelectorKey, int]] = super().select(0)
        if events or timeout is None or timeout <= 0 or self.loop is None:
            if not events and timeout is None:
                return list(super().select(None))
            return events
        self.loop.advance(timeout)
        return []


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """An event loop whose ``time()`` is virtual and jumps to the next timer when idle."""

    def __init__(self) -> None:
        sel = _JumpingSelector()
        super().__init__(selector=sel)
        sel.loop = self
        self._vtime = 0.0

    def time(self) -> float:
        return self._vtime

    def advance(self, seconds: float) -> None:
        self._vtime += seconds


def run_virtual(coro: Any) -> Any:
    """Run ``coro`` to completion on a fresh virtual-clock loop."""
    with asyncio.Runner(loop_factory=VirtualClockLoop) as runner:
        return runner.run(coro)
