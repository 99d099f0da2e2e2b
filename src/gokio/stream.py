"""Streams: lazy async sequences with combinators (tokio-stream / futures ``StreamExt``).

    from gokio import stream

    evens = stream.iter(range(10)).filter(lambda x: x % 2 == 0)
    squares = await evens.map(lambda x: x * x).collect()

Constructors: `iter`, `once`, `repeat`, `empty`, `interval`, `from_channel`, `merge`;
combinators and terminals are methods of `Stream`.
"""

from __future__ import annotations

from ._stream import Stream, empty, from_channel, interval, iter, merge, once, repeat

__all__ = ["Stream", "empty", "from_channel", "interval", "iter", "merge", "once", "repeat"]
