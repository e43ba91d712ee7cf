"""What the request journal costs (issue 16: at most 5 % of items.get throughput): the same items.get
load on two one-process servers over copies of one database, one with the journal on (the default,
10,000 entries) and one with ``--journal-size 0``, in interleaved wrk rounds of one run.

    .venv/bin/python bench/journal_cost.py [--leads 10000] [--rounds 5] [--seconds 5] [--connections 8]

Prints each round and the ratio of the medians (on / off); docs/performance.md, "Issue 16: the journal's
cost", holds the figures of a run.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path


def main() -> int:
    root = str(Path(__file__).resolve().parent.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    from bench.data import cached_sqlite
    from bench.servers import b24local_server
    from bench.wrk import SCENARIOS, has_errors, run_wrk, write_script

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    pristine, _ = cached_sqlite(args.leads, regenerate=False)
    scenario = SCENARIOS["items.get"]
    with tempfile.TemporaryDirectory(prefix="b24local-journal-bench-") as scratch:
        folder = Path(scratch)
        servers = {}
        for name, extra in (("on", ()), ("off", ("--journal-size", "0"))):
            database = folder / f"{name}.db"
            shutil.copyfile(pristine, database)
            servers[name] = b24local_server(f"journal-{name}", f"sqlite:///{database}", 1, folder, extra)
        try:
            for server in servers.values():
                server.start()
            script = write_script(
                folder, scenario, scenario.path, args.leads, "journal", connections=args.connections
            )
            rps: dict[str, list[float]] = {name: [] for name in servers}
            for round_ in range(args.rounds):
                order = list(servers) if round_ % 2 == 0 else list(reversed(servers))
                for name in order:
                    server = servers[name]
                    result = run_wrk(
                        server.base + scenario.path,
                        script,
                        threads=2,
                        connections=args.connections,
                        duration=args.seconds,
                        server_cpu=server.cpu_seconds,
                    )
                    if has_errors(result):
                        raise SystemExit(f"round {round_ + 1} {name}: errors {result}")
                    rps[name].append(float(result["rps"]))
                    rate, cpu = result["rps"], result["server_cpu_pct"]
                    print(f"round {round_ + 1} journal {name:>3}: {rate:8.0f} calls/s, server CPU {cpu} %")
        finally:
            for server in servers.values():
                server.stop()
    on, off = statistics.median(rps["on"]), statistics.median(rps["off"])
    print(f"median: journal on {on:.0f} calls/s, off {off:.0f} calls/s")
    print(f"on/off = {on / off:.3f} ({100 * (1 - on / off):.1f} % cost)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
