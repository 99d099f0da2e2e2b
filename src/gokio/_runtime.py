"""The runtime: `run`, `main`, `Runtime` (a loop on its own thread), `Handle`, `block_on`.

gokio needs no runtime of its own to work: every primitive runs on any asyncio loop.
``gokio.run`` adds what a runtime owns: the bounded blocking pool, and on return the
abort-and-await of every task still running, so nothing is left pending.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import threading
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import Future as CFuture
from types import TracebackType
from typing import Any, Literal, TypeVar, final, overload

from ._blocking import _POOLS, DEFAULT_MAX_BLOCKING_THREADS, new_pool, pool_thread
from ._task import _LIVE, JoinHandle, _check_coro, live_tasks, spawn

__all__ = ["Handle", "Runtime", "block_on", "main", "run"]

T = TypeVar("T")

LoopFactory = Callable[[], asyncio.AbstractEventLoop]


def _loop_factory(loop_factory: LoopFactory | Literal["uvloop"] | None) -> LoopFactory | None:
    if loop_factory == "uvloop":
        try:
            import uvloop
        except ImportError as e:  # pragma: no cover - uvloop is a test dependency
            raise RuntimeError(
                "loop_factory='uvloop' needs uvloop: pip install 'gokio[uvloop]'"
            ) from e
        return uvloop.new_event_loop
    if loop_factory is not None and not callable(loop_factory):
        raise TypeError("loop_factory must be None, 'uvloop' or a callable returning a loop")
    return loop_factory


def _as_coro(main: Any, fn: str) -> Coroutine[Any, Any, Any]:
    if inspect.iscoroutinefunction(main):
        return main()  # type: ignore[no-any-return]
    _check_coro(main, fn)
    return main  # type: ignore[no-any-return]


def run(
    main: Coroutine[Any, Any, T] | Callable[[], Coroutine[Any, Any, T]],
    *,
    debug: bool = False,
    max_blocking_threads: int = DEFAULT_MAX_BLOCKING_THREADS,
    loop_factory: LoopFactory | Literal["uvloop"] | None = None,
) -> T:
    """Run ``main`` on a new event loop and return its result (``asyncio.run`` plus gokio).

    When ``main`` returns, every task still running is aborted and awaited, async
    generators are closed and the blocking pool is shut down (queued jobs are dropped;
    running ones are waited for): nothing is left pending.

    Args:
        main: a coroutine, or an async function taking no arguments.
        debug: run the loop in asyncio debug mode.
        max_blocking_threads: bound of the `spawn_blocking` pool (>= 1).
        loop_factory: ``None`` (asyncio's default loop), ``"uvloop"``, or a callable.

    Raises:
        TypeError: ``main`` is not a coroutine or async function.
        RuntimeError: called from a running event loop (use ``await`` there).
    """
    coro = _as_coro(main, "run")
    try:
        factory = _loop_factory(loop_factory)
        pool = new_pool(max_blocking_threads)
    except BaseException:
        coro.close()  # a bad option must not leave a "never awaited" coroutine behind
        raise
    if asyncio._get_running_loop() is not None:
        coro.close()
        pool.shutdown(wait=False)
        raise RuntimeError(
            "gokio.run() cannot be called from a running event loop; await the coroutine "
            "instead, or use gokio.Runtime() to run it on a loop of its own"
        )
    loop: asyncio.AbstractEventLoop | None = None
    try:
        with asyncio.Runner(debug=debug, loop_factory=factory) as runner:
            loop = runner.get_loop()
            _POOLS[loop] = pool
            try:
                result: T = runner.run(coro)
                return result
            finally:
                _abort_blocking_jobs(loop)
                _POOLS.pop(loop, None)
    finally:
        if loop is not None:
            _LIVE.pop(loop, None)  # closed: its task references can go
        pool.shutdown(wait=True, cancel_futures=True)


@overload
def main(fn: Callable[[], Coroutine[Any, Any, T]], /) -> Callable[[], T]: ...
@overload
def main(
    *,
    debug: bool = ...,
    max_blocking_threads: int = ...,
    loop_factory: LoopFactory | Literal["uvloop"] | None = ...,
) -> Callable[[Callable[[], Coroutine[Any, Any, T]]], Callable[[], T]]: ...
def main(fn: Any = None, /, **options: Any) -> Any:
    """Decorator: turn ``async def main()`` into a plain function running it with `run`.

    ``@gokio.main`` or ``@gokio.main(max_blocking_threads=8, loop_factory="uvloop")``.
    """

    def decorate(f: Callable[[], Coroutine[Any, Any, T]]) -> Callable[[], T]:
        if not inspect.iscoroutinefunction(f):
            raise TypeError(f"@gokio.main decorates an async function, got {f!r}")

        @functools.wraps(f)
        def entry() -> T:
            return run(f, **options)

        return entry

    if fn is None:
        return decorate
    return decorate(fn)


@final
class Handle:
    """A handle to a running runtime (a loop), usable from any thread.

    Get it with `Handle.current()` inside the runtime (a task or a `spawn_blocking` job)
    and hand it to other threads: ``handle.spawn(coro)``, ``handle.block_on(coro)``.
    """

    __slots__ = ("_loop",)

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    @classmethod
    def current(cls) -> Handle:
        """The runtime of the running loop, or of the `spawn_blocking` job this thread runs.

        Raises:
            RuntimeError: neither applies.
        """
        loop = asyncio._get_running_loop() or pool_thread.loop
        if loop is None:
            raise RuntimeError(
                "no gokio runtime here: call this inside a task, a spawn_blocking job, or "
                "pass a Handle (or a gokio.Runtime) to this thread"
            )
        return cls(loop)

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop this handle drives."""
        return self._loop

    def _check_open(self) -> None:
        if self._loop.is_closed():
            raise RuntimeError("this gokio runtime has shut down; start a new one")

    def spawn(self, coro: Coroutine[Any, Any, T], *, name: str | None = None) -> JoinHandle[T]:
        """Spawn ``coro`` on this runtime from any thread; see `gokio.spawn`."""
        _check_coro(coro, "spawn")
        loop = self._loop
        if asyncio._get_running_loop() is loop:
            return spawn(coro, name=name)
        try:
            self._check_open()
        except RuntimeError:
            coro.close()
            raise
        # The task must be created on its loop's thread; wait the one loop iteration it
        # takes so the handle can be returned synchronously (as Tokio's spawn does).
        made: CFuture[JoinHandle[T]] = CFuture()

        def create() -> None:
            try:
                made.set_result(spawn(coro, name=name))
            except BaseException as e:  # pragma: no cover - spawn of a checked coroutine
                made.set_exception(e)

        try:
            loop.call_soon_threadsafe(create)
        except RuntimeError:
            coro.close()
            raise RuntimeError("this gokio runtime has shut down; start a new one") from None
        return made.result()

    def spawn_blocking(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> JoinHandle[T]:
        """Run ``fn`` on this runtime's blocking pool from any thread; see `spawn_blocking`."""
        from ._blocking import spawn_blocking

        async def submit() -> JoinHandle[T]:
            return spawn_blocking(fn, *args, **kwargs)

        return self.block_on(submit())

    def block_on(self, coro: Awaitable[T]) -> T:
        """Run ``coro`` on this runtime and block this thread until it returns its result.

        Raises:
            RuntimeError: called on the runtime's own loop thread (it would deadlock), or
                the runtime has shut down.
        """
        loop = self._loop
        if asyncio._get_running_loop() is not None:
            if asyncio.iscoroutine(coro):
                coro.close()
            same = asyncio._get_running_loop() is loop
            raise RuntimeError(
                "block_on() called on a thread that runs an event loop"
                + (" (this runtime's own loop: it would deadlock)" if same else "")
                + "; use 'await coro' in async code, or call block_on from a plain thread "
                "(e.g. inside gokio.spawn_blocking)"
            )
        if not asyncio.iscoroutine(coro):
            if not inspect.isawaitable(coro):
                raise TypeError(f"block_on() takes a coroutine, got {type(coro).__name__}")
            coro = _wrap_awaitable(coro)
        if loop.is_closed():
            coro.close()
            raise RuntimeError("this gokio runtime has shut down; start a new one")
        result: T = asyncio.run_coroutine_threadsafe(coro, loop).result()
        return result


def _abort_blocking_jobs(loop: asyncio.AbstractEventLoop) -> None:
    """Abort the handles of `spawn_blocking` jobs of ``loop`` that have not finished.

    The runtime is ending: a queued job will never run, a running one's result can no
    longer reach the closed loop. Without this their handles would stay pending forever.
    Call it on the loop's thread (it reads that thread's task references).
    """
    for fut in live_tasks(loop):
        if not isinstance(fut, asyncio.Task) and fut.get_loop() is loop:
            fut.cancel()


async def _wrap_awaitable(aw: Awaitable[T]) -> T:
    return await aw


def block_on(coro: Awaitable[T]) -> T:
    """From a `spawn_blocking` job, run ``coro`` on the runtime that started it.

    Raises:
        RuntimeError: called on an event loop thread, or from a thread that no gokio
            runtime started (use ``gokio.Runtime().block_on`` there).
    """
    loop = pool_thread.loop
    if loop is None:
        running = asyncio._get_running_loop() is not None
        if asyncio.iscoroutine(coro):
            coro.close()
        if running:
            raise RuntimeError(
                "gokio.block_on() called on a thread that runs an event loop; it would "
                "deadlock. Use 'await coro' instead."
            )
        raise RuntimeError(
            "gokio.block_on() works in threads started by gokio.spawn_blocking; elsewhere "
            "use a gokio.Runtime: 'with gokio.Runtime() as rt: rt.block_on(coro)'"
        )
    return Handle(loop).block_on(coro)


@final
class Runtime:
    """A gokio runtime on its own thread, for sync programs (Tokio's ``Runtime``).

    ::

        with gokio.Runtime() as rt:
            result = rt.block_on(main())
            handle = rt.spawn(worker())   # from any thread

    ``shutdown()`` (also on leaving the ``with`` block) aborts the tasks still running,
    waits for them, and stops the thread.
    """

    __slots__ = ("_closed", "_debug", "_handle", "_pool", "_ready", "_thread")

    def __init__(
        self,
        *,
        debug: bool = False,
        max_blocking_threads: int = DEFAULT_MAX_BLOCKING_THREADS,
        loop_factory: LoopFactory | Literal["uvloop"] | None = None,
    ) -> None:
        factory = _loop_factory(loop_factory) or asyncio.new_event_loop
        self._pool = new_pool(max_blocking_threads)
        self._debug = debug
        self._closed = False
        self._ready: CFuture[asyncio.AbstractEventLoop] = CFuture()
        self._thread = threading.Thread(
            target=self._serve, args=(factory,), name="gokio-runtime", daemon=True
        )
        self._thread.start()
        try:
            self._handle = Handle(self._ready.result())
        except BaseException:
            self._closed = True
            self._pool.shutdown(wait=False)
            raise

    def _serve(self, factory: LoopFactory) -> None:
        try:
            loop = factory()
            if not isinstance(loop, asyncio.AbstractEventLoop):
                raise TypeError(f"loop_factory returned {type(loop).__name__}, not an event loop")
            loop.set_debug(self._debug)
        except BaseException as e:  # hand it to __init__, which waits for the loop
            self._ready.set_exception(e)
            return
        _POOLS[loop] = self._pool
        asyncio.set_event_loop(loop)
        self._ready.set_result(loop)
        try:
            loop.run_forever()
        finally:
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                _POOLS.pop(loop, None)
                asyncio.set_event_loop(None)
                loop.close()

    @property
    def handle(self) -> Handle:
        """A `Handle` other threads can use to spawn onto this runtime."""
        return self._handle

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("this gokio.Runtime was shut down; create a new Runtime()")

    def block_on(self, coro: Awaitable[T]) -> T:
        """Run ``coro`` on the runtime and wait for its result (from a plain thread)."""
        if self._closed and asyncio.iscoroutine(coro):
            coro.close()
        self._check_open()
        return self._handle.block_on(coro)

    def spawn(self, coro: Coroutine[Any, Any, T], *, name: str | None = None) -> JoinHandle[T]:
        """Spawn ``coro`` on the runtime from any thread; the handle is awaitable from any loop."""
        if self._closed and asyncio.iscoroutine(coro):
            coro.close()
        self._check_open()
        return self._handle.spawn(coro, name=name)

    def spawn_blocking(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> JoinHandle[T]:
        """Run ``fn`` on the runtime's blocking pool."""
        self._check_open()
        return self._handle.spawn_blocking(fn, *args, **kwargs)

    def shutdown(self, timeout: float | None = None) -> None:
        """Abort every task, wait for them (at most ``timeout`` seconds), stop the thread.

        Calling it again does nothing. Raises RuntimeError if called from the runtime's
        own thread (it would wait for itself).
        """
        if self._closed:
            return
        loop = self._handle.loop
        if asyncio._get_running_loop() is loop:
            raise RuntimeError(
                "Runtime.shutdown() called from inside the runtime; call it "
                "from the thread that created the Runtime"
            )
        self._closed = True

        async def abort_all() -> None:
            _abort_blocking_jobs(loop)
            me = asyncio.current_task()
            tasks = [t for t in asyncio.all_tasks() if t is not me]
            for t in tasks:
                t.cancel()
            if tasks:
                await asyncio.wait(tasks, timeout=timeout)

        try:
            asyncio.run_coroutine_threadsafe(abort_all(), loop).result()
        finally:
            loop.call_soon_threadsafe(loop.stop)
            self._thread.join(timeout)
            self._pool.shutdown(wait=timeout is None, cancel_futures=True)

    def __enter__(self) -> Runtime:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown()
