"""A worker's watch on its parent (``serve --workers N``): a pipe whose write end only the parent holds.

The death signal (PR_SET_PDEATHSIG, SIGTERM) is not enough on its own: a stop signal acts as an
exception raised wherever the worker's main thread happens to be, and CPython sometimes loses it
(seen inside ``compile()`` while a worker imported its method modules); the worker then served on,
alone, with its parent gone. A pipe cannot lose anything: however the parent dies, the kernel closes
its end, and a thread blocked reading the other end wakes at EOF.
"""

from __future__ import annotations

import os
import signal
import threading
import time

#: Seconds between the stop signals a watcher sends once the parent is gone (one may be lost).
RESIGNAL = 0.5


class ParentPipe:
    """Made by the parent before its first fork and kept open for its lifetime; it never writes."""

    def __init__(self) -> None:
        self.read_fd, self.write_fd = os.pipe()

    def close(self) -> None:
        os.close(self.read_fd)
        os.close(self.write_fd)


def watch_parent(pipe: ParentPipe, grace: float) -> None:
    """In a worker, first thing after the fork: give up the inherited write end (else the worker keeps
    its own pipe open) and start the watching thread.

    Call it while stop signals are still blocked: the thread keeps that mask, so a stop signal meant
    for the process goes to the main thread, whose handlers stop the server."""
    os.close(pipe.write_fd)
    watcher = threading.Thread(
        target=_watch, args=(pipe.read_fd, grace), name="b24local-parent-watch", daemon=True
    )
    watcher.start()


def _watch(read_fd: int, grace: float) -> None:
    while os.read(read_fd, 1):  # the parent never writes: only EOF ends the wait
        pass
    # A graceful stop through the worker's own handlers, asked again until it happens; past the
    # parent's own stop grace, what the parent would have done: end the process.
    main = threading.main_thread().ident
    assert main is not None
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        signal.pthread_kill(main, signal.SIGTERM)
        time.sleep(RESIGNAL)
    os._exit(0)
