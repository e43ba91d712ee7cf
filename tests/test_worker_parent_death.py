"""Issue 14, item 8: a worker of ``serve --workers N`` never outlives its parent.

The death signal (SIGTERM) alone was not enough: CPython lost the stop exception now and then while a
starting worker compiled its method modules, and that worker served on with parent pid 1. Each
worker now also watches a pipe whose write end only the parent holds (src/b24local/parent_watch.py).
"""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import LiveServer, start_server
from tests.workers import children, gone, wait_workers

pytestmark = [
    pytest.mark.live,  # worker processes
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork and /proc"),
]

#: Seconds within which every worker must be gone after its parent's SIGKILL.
BOUND = 15.0

#: A parent that supervises 2 workers whose stop signals get lost: "lose-first" drops the first one
#: (as CPython did), "deaf" ignores them all. STOP_GRACE is shortened so that the watcher's last
#: resort (ending the process) comes within the test's bound.
SCRIPT = """
import os, signal, sys, time
from b24local import supervisor

supervisor.STOP_GRACE = 2.0
MODE = sys.argv[1]

def lossy_worker():
    lost = []

    def on_stop(signum, frame):
        if not lost:
            lost.append(signum)
            return
        raise supervisor.Stopped(0)

    for sig in supervisor.STOP_SIGNALS:
        signal.signal(sig, on_stop if MODE == "lose-first" else signal.SIG_IGN)
    os.write(1, f"serving {os.getpid()}\\n".encode())  # one write: the two workers share the pipe
    while True:
        time.sleep(0.05)

sys.exit(supervisor.supervise(2, lossy_worker))
"""


def _wait_gone(workers: list[int], bound: float = BOUND) -> list[int]:
    """The workers still there after ``bound`` seconds (none, normally well before)."""
    deadline = time.monotonic() + bound
    while not all(gone(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    return [pid for pid in workers if not gone(pid)]


@pytest.mark.parametrize("mode", ["lose-first", "deaf"])
def test_a_worker_whose_death_signal_is_lost_still_stops_with_its_parent(mode: str) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, mode], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: queue.Queue[str] = queue.Queue()
    assert parent.stdout is not None
    threading.Thread(target=lambda: [lines.put(line) for line in parent.stdout or ()], daemon=True).start()
    workers: list[int] = []
    try:
        while len(workers) < 2:
            line = lines.get(timeout=20)
            if line.startswith("serving "):
                workers.append(int(line.split()[1]))
        parent.kill()
        parent.wait(10)
        assert _wait_gone(workers) == []
    finally:
        parent.kill()
        parent.wait(10)
        for pid in workers:
            if not gone(pid):
                os.kill(pid, signal.SIGKILL)


def _kill_parent(live: LiveServer) -> list[int]:
    """SIGKILL the server's parent process; its workers at that moment."""
    workers = children(live.process.pid)
    live.process.kill()
    live.process.wait(10)
    return workers


def _keep_alive_connections(live: LiveServer, count: int) -> list[socket.socket]:
    """``count`` connections, each with one answered request and left open (keep-alive)."""
    port = int(live.base_url.rsplit(":", 1)[1])
    path = live.webhook_path + "profile"
    opened = []
    for _ in range(count):
        conn = socket.create_connection(("127.0.0.1", port), timeout=10)
        conn.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        assert conn.recv(65536).startswith(b"HTTP/1.1 200 ")
        opened.append(conn)
    return opened


#: Seconds after both workers were forked at which the parent is killed: at once, then across the
#: workers' start (imports, storage, uvicorn).
START_MOMENTS = [0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4]


@pytest.mark.parametrize("moment", START_MOMENTS)
def test_killing_the_parent_while_workers_start_stops_them(tmp_path: Path, moment: float) -> None:
    live = start_server(tmp_path / "b.db", "--workers", "2")
    try:
        assert len(wait_workers(live.process.pid, 2, timeout=20)) == 2
        time.sleep(moment)
        workers = _kill_parent(live)
        assert len(workers) == 2
        assert _wait_gone(workers) == []
    finally:
        live.stop()


def test_killing_the_parent_while_serving_keep_alive_connections_stops_the_workers(tmp_path: Path) -> None:
    live = start_server(tmp_path / "b.db", "--workers", "2")
    connections: list[socket.socket] = []
    try:
        assert len(wait_workers(live.process.pid, 2, timeout=20)) == 2
        connections = _keep_alive_connections(live, 6)
        workers = _kill_parent(live)
        assert len(workers) == 2
        assert _wait_gone(workers) == []
    finally:
        for conn in connections:
            conn.close()
        live.stop()
