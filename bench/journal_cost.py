"""What the request journal costs (issue 16: at most 5 % of items.get throughput): the same items.get
load on two one-process servers over copies of one database, one with the journal on (the default,
10,000 entries) and one with ``--journal-size 0``.

Both servers run at once, each under its own wrk, so that whatever else the machine does (its speed
drifts several-fold from hour to hour) weighs on both alike. A round measures each server's CPU time
per call (user and system, read from /proc); a server bound by its CPU serves 1 / (CPU per call)
calls a second, so ``off / on`` of that figure is the throughput the journal leaves. The result is
the median of the rounds. Two servers of the same kind measured this way give 1.00 (± 0.02 a round).

    .venv/bin/python bench/journal_cost.py [--leads 10000] [--rounds 16] [--seconds 4] [--connections 4]

docs/performance.md, "Issue 16: the journal's cost", holds the figures of a run.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any


def main() -> int:
    root = str(Path(__file__).resolve().parent.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    from bench.data import cached_sqlite
    from bench.servers import Server, b24local_server
    from bench.wrk import SCENARIOS, has_errors, run_wrk, write_script

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--connections", type=int, default=4)
    args = parser.parse_args()
    pristine, _ = cached_sqlite(args.leads, regenerate=False)
    scenario = SCENARIOS["items.get"]
    with tempfile.TemporaryDirectory(prefix="b24local-journal-bench-") as scratch:
        folder = Path(scratch)
        servers: dict[str, Server] = {}
        for name, extra in (("on", ()), ("off", ("--journal-size", "0"))):
            database = folder / f"{name}.db"
            shutil.copyfile(pristine, database)
            servers[name] = b24local_server(f"journal-{name}", f"sqlite:///{database}", 1, folder, extra)
        script = write_script(
            folder, scenario, scenario.path, args.leads, "journal", connections=args.connections
        )
        ratios: list[float] = []
        try:
            for server in servers.values():
                server.start()
            for round_ in range(args.rounds):
                results: dict[str, dict[str, Any]] = {}

                def load(name: str, results: dict[str, dict[str, Any]] = results) -> None:
                    server = servers[name]
                    results[name] = run_wrk(
                        server.base + scenario.path,
                        script,
                        threads=1,
                        connections=args.connections,
                        duration=args.seconds,
                        server_cpu=server.cpu_seconds,
                    )

                threads = [threading.Thread(target=load, args=(name,)) for name in servers]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                for name, result in results.items():
                    if has_errors(result):
                        raise SystemExit(f"round {round_ + 1} {name}: errors {result}")
                cpu = {name: 10_000 * r["server_cpu_pct"] / r["rps"] for name, r in results.items()}
                ratios.append(cpu["off"] / cpu["on"])
                print(
                    f"round {round_ + 1}: journal on {results['on']['rps']:6.0f} calls/s, "
                    f"{cpu['on']:6.1f} µs CPU a call; off {results['off']['rps']:6.0f} calls/s, "
                    f"{cpu['off']:6.1f} µs; on/off {ratios[-1]:.3f}"
                )
        finally:
            for server in servers.values():
                server.stop()
    median = statistics.median(ratios)
    spread = f"{min(ratios):.3f}–{max(ratios):.3f}"
    print(f"on/off = {median:.3f} ({100 * (1 - median):.1f} % cost); rounds {spread}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
