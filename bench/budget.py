"""The CPU budget per request: whatever it holds, a request of at most the body limit is refused or
answered within ``--budget`` seconds (0.2) of the server's CPU time.

    .venv/bin/python bench/budget.py                       # make bench-budget
    .venv/bin/python bench/budget.py --shapes form,batch --repeat 3

Starts ``b24local serve`` (SQLite, one process) on a copy of the cached 100,000-lead database of
bench/run.py (generated on first use), sends each worst shape of bench/budget_shapes.py, and reads the
server's CPU time (utime + stime of /proc/PID/stat, whole process, in clock ticks of 10 ms) before the
request and again once the server has gone idle after answering, so that work left behind counts too.
A request without an answer within ``--timeout`` fails, and the server is started afresh for the next.
Prints the table (shape, bytes, status, error, server CPU, wall time, verdict), writes
bench/results/budget.json, and exits 1 if any shape failed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: the bench package is found from the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from b24local.config import Config
from bench.budget_shapes import SHAPES, Shape
from bench.common import RESULTS, WEBHOOK_CODE, WEBHOOK_USER
from bench.data import cached_sqlite
from bench.servers import Server, b24local_server
from bench.wrk import wait_until_idle

BUDGET_S = 0.2
LEADS = 100_000
WRONG_CODE = "wrongcode0000000"


@dataclass
class Outcome:
    shape: str
    bytes: int
    status: str  # the HTTP status, or "timeout" / "no answer"
    error: str  # the answer's "error", if any
    cpu_s: float
    wall_s: float
    passed: bool


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Server CPU per worst-shaped request against a budget.")
    parser.add_argument("--budget", type=float, default=BUDGET_S, help="seconds of server CPU (default 0.2)")
    parser.add_argument(
        "--body-limit",
        type=int,
        default=Config().max_body_bytes,
        help="bytes per request (default: the server's)",
    )
    parser.add_argument(
        "--shapes", default=",".join(SHAPES), help=f"comma-separated, from {','.join(SHAPES)}"
    )
    parser.add_argument("--repeat", type=int, default=1, help="send each shape this often; the worst counts")
    parser.add_argument(
        "--timeout", type=float, default=60.0, help="seconds to wait for an answer (default 60)"
    )
    args = parser.parse_args(argv)
    args.shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]
    unknown = [s for s in args.shapes if s not in SHAPES]
    if unknown or not args.shapes:
        parser.error(f"unknown shapes {unknown}; choose from {','.join(SHAPES)}")
    return args


def send(server: Server, shape: Shape, timeout: float) -> tuple[str, str]:
    """One request; its status and the ``error`` of its answer (empty when there is none, the
    content type in brackets when the answer is not JSON)."""
    code = WRONG_CODE if shape.wrong_code else WEBHOOK_CODE
    path = f"/rest/{WEBHOOK_USER}/{code}/{shape.method}.json"
    if shape.query:
        path += "?" + shape.query.decode()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        conn.request("POST", path, body=shape.body, headers={"Content-Type": shape.content_type})
        response = conn.getresponse()
        raw = response.read()
    except TimeoutError:
        return "timeout", ""
    except (OSError, http.client.HTTPException) as exc:
        return "no answer", type(exc).__name__
    finally:
        conn.close()
    try:
        answer = json.loads(raw)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):  # not the portal's error body: say what it was
        return str(response.status), f"({response.getheader('content-type', 'no type')})"
    error = str(answer.get("error", ""))
    return str(response.status), error


def measure(server: Server, shape: Shape, args: argparse.Namespace) -> Outcome:
    wait_until_idle(server.cpu_seconds)
    before = server.cpu_seconds()
    started = time.monotonic()
    status, error = send(server, shape, args.timeout)
    wall = time.monotonic() - started
    if status.isdigit():
        wait_until_idle(server.cpu_seconds)
    cpu = server.cpu_seconds() - before
    passed = status.isdigit() and int(status) < 500 and cpu <= args.budget
    return Outcome(shape.name, shape.size, status, error, round(cpu, 3), round(wall, 3), passed)


def why(outcome: Outcome, budget: float) -> str:
    if not outcome.status.isdigit():
        return outcome.status
    if int(outcome.status) >= 500:
        return f"HTTP {outcome.status}"
    return f"> {budget:g} s"


def print_table(outcomes: list[Outcome], budget: float) -> None:
    print(f"\n{'shape':<26} {'bytes':>10} {'status':>9} {'error':<22} {'CPU s':>7} {'wall s':>7}  verdict")
    for o in outcomes:
        verdict = "pass" if o.passed else f"FAIL ({why(o, budget)})"
        print(
            f"{o.shape:<26} {o.bytes:>10,} {o.status:>9} {o.error[:22]:<22} {o.cpu_s:>7.2f} "
            f"{o.wall_s:>7.2f}  {verdict}"
        )


def run(args: argparse.Namespace, folder: Path) -> list[Outcome]:
    pristine, _took = cached_sqlite(LEADS, False)
    database = folder / "budget.db"
    shutil.copyfile(pristine, database)
    logs = RESULTS / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    server = b24local_server("budget", f"sqlite:///{database}", 1, logs)
    server.start()
    outcomes = []
    try:
        for name in args.shapes:
            shape = SHAPES[name](args.body_limit)
            worst: Outcome | None = None
            for _ in range(args.repeat):
                outcome = measure(server, shape, args)
                print(f"  {shape.name:<26} {outcome.status:>9} {outcome.cpu_s:7.2f} s CPU", flush=True)
                if worst is None or (worst.passed, -worst.cpu_s) > (outcome.passed, -outcome.cpu_s):
                    worst = outcome
                if not outcome.status.isdigit():  # it may still be busy with it: start afresh
                    server.stop()
                    server.start()
                    break
            assert worst is not None
            outcomes.append(worst)
    finally:
        server.stop()
    return outcomes


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(
        f"body limit {args.body_limit:,} bytes; budget {args.budget:g} s of server CPU per request",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="b24budget-") as scratch:
        outcomes = run(args, Path(scratch))
    print_table(outcomes, args.budget)
    report: dict[str, Any] = {
        "budget_s": args.budget,
        "body_limit": args.body_limit,
        "outcomes": [asdict(o) for o in outcomes],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "budget.json").write_text(json.dumps(report, indent=2) + "\n")
    failed = [o.shape for o in outcomes if not o.passed]
    if failed:
        print(f"over the budget or failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
