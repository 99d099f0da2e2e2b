"""gokio: Go's ease and Tokio's guarantees for Python's asyncio.

Tasks, channels and ``select``, time, cancellation, structured groups, sync primitives
and streams that work from async tasks on any event loop and from plain threads.
The public contract is documented in the docs site; every name below is re-exported
from a private module.
"""

from __future__ import annotations

# One sorted block (ruff's isort); the contract's sections are the modules' names:
# _errors (exceptions); _task, _joinset, _blocking, _runtime, _time, _interval (runtime,
# tasks, time); _chan, _select and the channel submodules; _cancel, context, _errgroup,
# _waitgroup and the sync primitives; _stream and the stream submodule.
from . import broadcast as broadcast
from . import context as context
from . import mpsc as mpsc
from . import oneshot as oneshot
from . import stream as stream
from . import watch as watch
from ._barrier import Barrier
from ._blocking import spawn_blocking
from ._cancel import CancellationToken
from ._chan import Chan, after, chan
from ._errgroup import ErrGroup
from ._errors import Closed, Deadlock, Elapsed, Empty, Full, Lagged, TaskAborted, WouldBlock
from ._interval import Interval, interval
from ._joinset import AbortHandle, JoinSet
from ._mutex import Mutex
from ._notify import Notify
from ._oncecell import OnceCell
from ._runtime import Handle, Runtime, block_on, main, run
from ._rwlock import RwLock
from ._select import Selected, select
from ._semaphore import Semaphore
from ._stream import Stream
from ._task import JoinHandle, go, join, spawn, try_join, yield_now
from ._time import Instant, sleep, sleep_until, timeout, timeout_at
from ._waitgroup import WaitGroup

__version__ = "0.1.0"

__all__ = [
    "AbortHandle",
    "Barrier",
    "CancellationToken",
    "Chan",
    "Closed",
    "Deadlock",
    "Elapsed",
    "Empty",
    "ErrGroup",
    "Full",
    "Handle",
    "Instant",
    "Interval",
    "JoinHandle",
    "JoinSet",
    "Lagged",
    "Mutex",
    "Notify",
    "OnceCell",
    "Runtime",
    "RwLock",
    "Selected",
    "Semaphore",
    "Stream",
    "TaskAborted",
    "WaitGroup",
    "WouldBlock",
    "after",
    "block_on",
    "chan",
    "go",
    "interval",
    "join",
    "main",
    "run",
    "select",
    "sleep",
    "sleep_until",
    "spawn",
    "spawn_blocking",
    "timeout",
    "timeout_at",
    "try_join",
    "yield_now",
]
