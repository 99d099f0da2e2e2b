"""gokio: Go's ease and Tokio's guarantees for Python's asyncio.

Tasks, channels and ``select``, time, cancellation, structured groups, sync primitives
and streams that work from async tasks on any event loop and from plain threads.
The public contract is documented in the docs site; every name below is re-exported
from a private module.
"""

from __future__ import annotations

# --- exceptions --------------------------------------------------------------------------
from ._errors import Closed, Deadlock, Elapsed, Empty, Full, Lagged, TaskAborted, WouldBlock

# --- foundation: runtime, tasks, time ----------------------------------------------------
from ._blocking import spawn_blocking
from ._interval import Interval, interval
from ._joinset import AbortHandle, JoinSet
from ._runtime import Handle, Runtime, block_on, main, run
from ._task import JoinHandle, go, join, spawn, try_join, yield_now
from ._time import Instant, sleep, sleep_until, timeout, timeout_at

# --- channels and select -----------------------------------------------------------------

# --- cancellation, context, groups, sync -------------------------------------------------

# --- streams -----------------------------------------------------------------------------

__version__ = "0.1.0"

__all__ = [
    "AbortHandle",
    "Closed",
    "Deadlock",
    "Elapsed",
    "Empty",
    "Full",
    "Handle",
    "Instant",
    "Interval",
    "JoinHandle",
    "JoinSet",
    "Lagged",
    "Runtime",
    "TaskAborted",
    "WouldBlock",
    "block_on",
    "go",
    "interval",
    "join",
    "main",
    "run",
    "sleep",
    "sleep_until",
    "spawn",
    "spawn_blocking",
    "timeout",
    "timeout_at",
    "try_join",
    "yield_now",
]
