"""``serve --workers N``: the parent forks N worker processes, restarts one that dies on its own,
forwards stop signals to them; each worker stops with its parent, however the parent died.

Nothing here knows the command line: a worker is any callable (tests give their own).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Callable

from b24local.parent_watch import ParentPipe, watch_parent
from b24local.storage.errors import StorageError

#: The signals that stop a server: the parent forwards them to its workers.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

#: A worker that dies within this many seconds of its start counts as failing to start; after
#: ``CRASH_LIMIT`` such deaths in a row the server stops (exit 1) rather than restart it forever.
QUICK_DEATH = 5.0
CRASH_LIMIT = 3
#: How long the workers have to stop after SIGTERM before they are killed.
STOP_GRACE = 10.0


def supervise(count: int, run_worker: Callable[[], None]) -> int:
    """Fork ``count`` workers, restart one that dies on its own, forward SIGINT/SIGTERM as SIGTERM.

    Returns 0 once the workers have stopped after a stop signal, 1 when workers keep dying at start.
    """
    children: dict[int, float] = {}  # pid -> start time
    stopping: list[float] = []  # when the stop signal came (empty while serving)
    parent = os.getpid()
    pipe = ParentPipe()  # its EOF tells the workers that this process is gone, however it died
    signalled: set[int] = set()

    def on_signal(signum: int, frame: object) -> None:
        if not stopping:
            stopping.append(time.monotonic())
        for pid in list(children):
            if pid not in signalled:  # once each: the loop below calls this again while it waits
                signalled.add(pid)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)

    def start() -> None:
        children[_fork_worker(parent, run_worker, pipe)] = time.monotonic()

    for sig in STOP_SIGNALS:
        signal.signal(sig, on_signal)
    for _ in range(count):
        if not stopping:
            start()
    quick_deaths = 0
    status = 0
    while children:
        try:
            pid, code = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            if stopping:
                on_signal(signal.SIGTERM, None)  # a worker forked just as the signal came
            if stopping and time.monotonic() - stopping[0] > STOP_GRACE:
                for other in list(children):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(other, signal.SIGKILL)
            time.sleep(0.05)
            continue
        started = children.pop(pid, None)
        if started is None or stopping:
            continue
        quick_deaths = quick_deaths + 1 if time.monotonic() - started < QUICK_DEATH else 0
        print(f"b24local: worker {pid} died ({_describe(code)})", file=sys.stderr, flush=True)
        if quick_deaths >= CRASH_LIMIT:
            print("b24local: error: workers keep dying at start; stopping", file=sys.stderr, flush=True)
            status = 1
            on_signal(signal.SIGTERM, None)
            continue
        start()
    pipe.close()
    return status


def _fork_worker(parent: int, run_worker: Callable[[], None], pipe: ParentPipe) -> int:
    """Fork one worker; returns its pid. Stop signals wait (blocked) across the fork until the worker
    has its own handlers: one that came just after the fork would otherwise run the parent's handler in
    the worker, and a worker whose parent had been killed would go on serving alone."""
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        pid = os.fork()
        if pid == 0:
            status = 1
            try:
                status = _worker_main(parent, run_worker, pipe)
            finally:
                # Never returns, even when a late stop signal escapes _worker_main: the code after
                # this is the parent's.
                os._exit(status)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    return pid


def _describe(code: int) -> str:
    if os.WIFSIGNALED(code):
        return f"signal {os.WTERMSIG(code)}"
    return f"exit {os.waitstatus_to_exitcode(code)}"


def _worker_main(parent: int, run_worker: Callable[[], None], pipe: ParentPipe) -> int:
    """The body of a forked worker; returns its exit status (the caller ``os._exit``s with it)."""
    code = 1
    try:
        # Stop signals go to the parent, which forwards them: Ctrl-C in a terminal must not reach a
        # worker twice. A worker whose parent dies (even by SIGKILL) is stopped too: by the death
        # signal, and, should that be lost, by the pipe's watcher.
        os.setpgid(0, 0)
        watch_parent(pipe, STOP_GRACE)
        _die_with_parent()
        if os.getppid() != parent:
            return 0
        for sig in STOP_SIGNALS:
            signal.signal(sig, raise_stopped)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)  # blocked since the fork (supervise)
        run_worker()
        code = 0
    except Stopped:
        code = 0
    except StorageError as exc:
        print(f"b24local: error: {exc}", file=sys.stderr)
    except BaseException:
        logging.getLogger("b24local").exception("worker %s failed", os.getpid())
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return code


def _die_with_parent() -> None:
    """Linux: SIGTERM to this process when its parent dies (elsewhere: nothing)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0)


class Stopped(SystemExit):
    """A stop signal. A SystemExit, because asyncio's callback runner re-raises only SystemExit and
    KeyboardInterrupt: any other exception raised by a signal landing inside a callback (while uvicorn
    starts, before its own handlers are installed) would be logged and lost, and the server would run
    on."""


def raise_stopped(signum: int, frame: object) -> None:
    raise Stopped(0)
