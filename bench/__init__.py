"""The load benchmark (``bench/run.py``, ``make bench``) and its parts.

common      paths, the webhook the generated data carries, a small HTTP client
data        the benchmark databases: SQLite (cached) and PostgreSQL (COPY into a throwaway cluster)
processes   /proc accounting: CPU time and memory of a process tree, the machine's busy time
servers     b24local, the hello app and nginx as subprocesses; the PostgreSQL cluster
wrk         the scenarios' Lua scripts and one wrk run
checks      each scenario's answer checked once over HTTP before it is loaded
sections    one data size: servers up, checks, rounds of runs, memory, cost-curve points
report      the console tables, bench/results/latest.json and docs/performance.md's generated part
profiling   optional py-spy sampling of a loaded server
runner      the options, the sections to run, the report files and the exit status
run         the entry point: python bench/run.py (make bench)
hello_app   the raw ASGI reference app (run as its own process)
budget      the CPU budget per request: python bench/budget.py (make bench-budget)
budget_shapes  the worst request shapes it sends
"""
