"""What fault injection (test-portal.md T9) costs a call that no rule faults: items.get under wrk with
no rules, with rules for other methods only, and with a rule matching items.get that never fires.

    .venv/bin/python bench/faults.py [--leads N] [--seconds S] [--rounds R]

One ``b24local serve`` (SQLite, one process) over the benchmark's cached data (bench/data.py); the
three rule sets are set through ``PUT /_b24local/faults`` between runs, and the runs are interleaved
``--rounds`` times (the median is reported), so that the machine's drift hits every set alike:

- ``none``: no rules; a call reads the rules' hint (8 bytes of a mapped file) and nothing else;
- ``other``: rules for ``crm.deal.*``; the same, plus a glob match per rule;
- ``matching``: a rule for ``crm.lead.contact.items.get`` with ``every: 10**9``: every call pays the
  write transaction that counts it (what a matching rule costs while it does not fire).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

TOKEN = "bench-faults-token"
RULE_SETS: dict[str, list[dict[str, Any]]] = {
    "none": [],
    "other": [
        {"method": "crm.deal.*", "error": "INTERNAL_SERVER_ERROR"},
        {"method": "crm.company.add", "delay_ms": 100},
    ],
    "matching": [{"method": "crm.lead.contact.items.get", "every": 10**9, "error": "INTERNAL_SERVER_ERROR"}],
}


def put_rules(base: str, rules: list[dict[str, Any]]) -> None:
    request = urllib.request.Request(
        base + "/_b24local/faults",
        data=json.dumps(rules).encode(),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        method="PUT",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200


def main() -> int:
    root = Path(__file__).resolve().parent.parent
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from bench.data import cached_sqlite
    from bench.servers import b24local_server
    from bench.wrk import SCENARIOS, has_errors, run_wrk, write_script

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    pristine, _ = cached_sqlite(args.leads, regenerate=False)
    scratch = Path(tempfile.mkdtemp(prefix="b24local-bench-faults-"))
    try:
        database = scratch / "b24local.db"
        shutil.copyfile(pristine, database)
        server = b24local_server("sqlite1", f"sqlite:///{database}", 1, scratch, ("--admin-token", TOKEN))
        server.start()
        try:
            scenario = SCENARIOS["items.get"]
            script = write_script(scratch, scenario, scenario.path, args.leads, "faults", connections=64)
            rps: dict[str, list[float]] = {name: [] for name in RULE_SETS}
            for _ in range(args.rounds):
                for name, rules in RULE_SETS.items():
                    put_rules(server.base, rules)
                    result = run_wrk(
                        server.base,
                        script,
                        threads=2,
                        connections=64,
                        duration=args.seconds,
                        server_cpu=server.cpu_seconds,
                    )
                    if has_errors(result):
                        raise SystemExit(f"{name}: errors under load: {result}")
                    rps[name].append(float(result["rps"]))
        finally:
            server.stop()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    base = statistics.median(rps["none"])
    print(f"items.get, SQLite, one process, {args.leads:,} leads, 64 connections, median of {args.rounds}:")
    for name, values in rps.items():
        median = statistics.median(values)
        print(f"  {name:9} {median:9,.0f} req/s  {100 * (median / base - 1):+5.1f} %  (runs: {values})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
