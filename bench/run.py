"""Load benchmark of b24local's CRM calls on SQLite and PostgreSQL, with hello and nginx as references.

    .venv/bin/python bench/run.py            # the full run (make bench): docs/performance.md's figures
    .venv/bin/python bench/run.py --quick    # small data, short runs, for development; docs left alone
    (--help for all options)

What it does (details in docs/performance.md, "Method"):

1. Generates the data (N leads, 5 N contacts, 5 bindings per lead, user 1 and a crm webhook with a
   known code) through the project's own migrations: an SQLite file cached under bench/results/cache/,
   and, for the pg2 configuration, a database in a throwaway PostgreSQL cluster filled with COPY.
2. Starts ``b24local serve`` per configuration (sqlite1: one process; sqlite2: --workers 2; pg2:
   --workers 2 on PostgreSQL), timing each from the spawn to its first 200 answer; and the references:
   the raw ASGI hello app (bench/hello_app.py) and nginx answering a fixed items.get body, with 1 and 2
   processes.
3. Checks every scenario's answer once over HTTP (status 200 and the expected shape), then drives
   every (server, scenario) pair with wrk over loopback (keep-alive connections, Lua scripts that count
   non-200 answers), ``--rounds`` times interleaved, with CPU accounting from /proc; reads the servers'
   memory after the load; times items.get and items.set (10, 100, 1,000 contacts) at one connection.
4. Does it for N (default 100,000) and for the large table (default 1,000,000; ``--no-big`` skips it),
   plus items.get at one connection on 1,000 leads.
5. Prints the tables, writes bench/results/latest.json and, on a full run, the generated section of
   docs/performance.md. Any non-200 answer or socket error makes it exit non-zero.
"""

from __future__ import annotations

import sys
from pathlib import Path


def _main() -> int:
    # Run as a script: the bench package and tests.pgcluster are found from the repository root.
    root = str(Path(__file__).resolve().parent.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    from bench.runner import main

    return main()


if __name__ == "__main__":
    sys.exit(_main())
