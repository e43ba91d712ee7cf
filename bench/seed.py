"""Seeding and exporting 100,000 leads (issue 16, contract T5): the target is 20,000 records/s or more.

    .venv/bin/python bench/seed.py                 # SQLite and, when initdb is found, PostgreSQL
    .venv/bin/python bench/seed.py --leads 20000   # smaller, for development

Each round makes a new database and times, as a user meets them, ``b24local seed FILE`` (the whole
command: start, migrations of the new database, reading and checking the document, the bulk writes,
commit) and ``b24local export FILE`` of what it wrote; and, in this process, ``crm.seed.seed`` alone
(parsing, checking, writing: the work without Python's start and the migrations). The document is
JSON: leads with a title, a name, a stage, an amount and a phone each, as a test suite's fixture
would have them. Prints the medians of ``--rounds`` rounds; docs/performance.md ("Issue 16: seed and
export") has the figures.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson


def document(leads: int) -> dict[str, list[dict[str, Any]]]:
    stages = ("NEW", "IN_PROCESS", "PROCESSED", "JUNK")
    return {
        "leads": [
            {
                "TITLE": f"Lead {i}",
                "NAME": "Anna",
                "STATUS_ID": stages[i % 4],
                "OPPORTUNITY": 100 + i % 1000,
                "PHONE": [{"VALUE": f"+49 30 {i:07d}", "VALUE_TYPE": "WORK"}],
            }
            for i in range(leads)
        ]
    }


def _timed(*argv: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command itself: a busy machine stretches the first only)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "b24local", *argv], check=True, capture_output=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def _in_process(url: str, text: bytes) -> float:
    from b24local.crm import seed as seeding
    from b24local.storage.open import open_storage
    from b24local.storage.runner import run

    storage = open_storage(url)  # the migrations, outside the time
    try:
        started, cpu = time.perf_counter(), time.process_time()
        doc = seeding.parse(text, "json")
        run(storage, True, lambda tx: seeding.seed(tx, doc))
        return time.perf_counter() - started, time.process_time() - cpu
    finally:
        storage.close()


def one_round(new_url: Any, text: bytes, scratch: Path) -> dict[str, tuple[float, float]]:
    (scratch / "seed.json").write_bytes(text)
    url = new_url()
    seed = _timed("seed", "--database", url, str(scratch / "seed.json"))
    export = _timed("export", "--database", url, str(scratch / "export.json"))
    return {"cli_seed": seed, "cli_export": export, "in_process_seed": _in_process(new_url(), text)}


def measure(name: str, new_url: Any, leads: int, rounds: int, scratch: Path) -> None:
    text = orjson.dumps(document(leads))
    runs = [one_round(new_url, text, scratch) for _ in range(rounds)]
    print(f"{name}: {leads:,} leads, {len(text) / 1e6:.1f} MB of JSON, median of {rounds} rounds")
    print(f"  {'':16s} {'wall':>8s} {'records/s':>10s} {'CPU (client)':>13s}")
    for key in ("cli_seed", "in_process_seed", "cli_export"):
        wall = statistics.median(r[key][0] for r in runs)
        cpu = statistics.median(r[key][1] for r in runs)
        print(f"  {key:16s} {wall:6.2f} s {leads / wall:10,.0f} {cpu:11.2f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-postgres", action="store_true")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="b24local-seed-bench-") as folder:
        scratch = Path(folder)
        counter = iter(range(10**6))
        measure(
            "sqlite",
            lambda: f"sqlite:///{scratch / f'bench-{next(counter)}.db'}",
            options.leads,
            options.rounds,
            scratch,
        )
        if not options.no_postgres:
            _postgres(options, scratch)
    return 0


def _postgres(options: argparse.Namespace, scratch: Path) -> None:
    from tests.pgcluster import Cluster, find_bindir

    bindir = find_bindir()
    if bindir is None:
        print("postgresql: initdb not found, skipped")
        return
    cluster = Cluster(bindir)
    cluster.start()
    try:
        measure("postgresql", cluster.new_database, options.leads, options.rounds, scratch)
    finally:
        cluster.stop()


if __name__ == "__main__":
    root = str(Path(__file__).resolve().parent.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    sys.exit(main())
