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

# --- channels and select -----------------------------------------------------------------

# --- cancellation, context, groups, sync -------------------------------------------------

# --- streams -----------------------------------------------------------------------------

__version__ = "0.1.0"

__all__ = [
    "Closed",
    "Deadlock",
    "Elapsed",
    "Empty",
    "Full",
    "Lagged",
    "TaskAborted",
    "WouldBlock",
]
