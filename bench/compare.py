"""items.get and items.set of two source trees against each other, alternated round by round.

    python bench/compare.py new=. old=/path/to/an/older/checkout [--rounds 5] [--seconds 5]

Each tree serves its own copy of the same data (10,000 leads, made by that tree's own
bench/data.py, so that each gets its own schema), one server process each on SQLite; wrk loads one at
a time with 1 and with 64 connections, the trees taking turns (A B, then B A, ...), so that the
machine's drift falls on both alike. The figure to quote is the median of the per-round ratios.

``--in-process`` times the ASGI app without a socket instead (µs per call, best of 7 batches of
3,000 calls): what the request costs in b24local's own code, without uvicorn and the kernel.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PYTHON = sys.executable
LEADS = 10_000
CODE = "benchhook4k7q2m9x"  # bench/common.py WEBHOOK_CODE in every tree that has bench/data.py
LUA = {
    "get": """
math.randomseed(os.time())
request = function()
  return wrk.format("POST", "/rest/1/%(code)s/crm.lead.contact.items.get",
    {["Content-Type"]="application/json"}, '{"id":' .. math.random(1, %(leads)d) .. '}')
end
""",
    "set": """
math.randomseed(os.time() + 7)
request = function()
  local parts = {}
  for i = 1, 5 do parts[i] = '{"CONTACT_ID":' .. math.random(1, %(contacts)d) .. '}' end
  return wrk.format("POST", "/rest/1/%(code)s/crm.lead.contact.items.set",
    {["Content-Type"]="application/json"},
    '{"id":' .. math.random(1, %(leads)d) .. ',"items":[' .. table.concat(parts, ",") .. ']}')
end
""",
}

IN_PROCESS = """
import asyncio, random, sys, time
from b24local.app import App
from b24local.config import Config
from b24local.storage.open import open_storage

app = App(Config(), open_storage("sqlite:///" + sys.argv[1]))
what, leads = sys.argv[2], int(sys.argv[3])
path = "/rest/1/%s/crm.lead.contact.items.%s" % (sys.argv[4], what)
rng = random.Random(1)

def body():
    if what == "get":
        return b'{"id":%d}' % rng.randint(1, leads)
    items = ",".join('{"CONTACT_ID":%d}' % rng.randint(1, leads * 5) for _ in range(5))
    return b'{"id":%d,"items":[%s]}' % (rng.randint(1, leads), items.encode())

async def one(payload):
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
             "root_path": "", "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000),
             "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
                         (b"content-length", str(len(payload)).encode())]}
    messages = [{"type": "http.request", "body": payload, "more_body": False}]
    async def receive():
        return messages.pop() if messages else {"type": "http.disconnect"}
    status = []
    async def send(message):
        if message["type"] == "http.response.start":
            status.append(message["status"])
    await app(scope, receive, send)
    assert status == [200], status

async def main():
    bodies = [body() for _ in range(3000)]
    for payload in bodies[:300]:
        await one(payload)
    best = float("inf")
    for _ in range(7):
        started = time.perf_counter()
        for payload in bodies:
            await one(payload)
        best = min(best, (time.perf_counter() - started) / len(bodies))
    print(f"{best * 1e6:.1f}")

asyncio.run(main())
"""


def tree_env(tree: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = f"{tree}{os.pathsep}{tree / 'src'}"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def make_database(tree: Path, path: Path) -> None:
    script = (
        "from pathlib import Path; from bench.data import generate_sqlite; "
        f"generate_sqlite(Path({str(path)!r}), {LEADS})"
    )
    subprocess.run([PYTHON, "-c", script], env=tree_env(tree), cwd=tree, check=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(tree: Path, database: Path, folder: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    argv = [PYTHON, "-m", "b24local", "serve", "--database", f"sqlite:///{database}", "--port", str(port)]
    process = subprocess.Popen(
        argv, env=tree_env(tree), cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return process, port
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{tree}: the server did not start")


def wrk(port: int, script: Path, connections: int, seconds: float) -> float:
    argv = ["wrk", f"-c{connections}", f"-t{min(connections, 2)}", f"-d{seconds}s", "-s", str(script)]
    done = subprocess.run([*argv, f"http://127.0.0.1:{port}/"], capture_output=True, text=True, check=False)
    out = done.stdout
    if "Non-2xx" in out:
        raise SystemExit(f"non-200 answers: {out}")
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if found is None:
        raise SystemExit(f"wrk printed no rate: {out}")
    return float(found.group(1))


def report(results: dict[tuple[str, str], list[float]], names: list[str], unit: str) -> None:
    first, second = names
    for scenario in dict.fromkeys(s for s, _ in results):
        a, b = results[(scenario, first)], results[(scenario, second)]
        ratios = [x / y for x, y in zip(a, b, strict=True)]
        print(
            f"{scenario}: {first} {statistics.median(a):,.1f} {unit}, {second} {statistics.median(b):,.1f} "
            f"{unit}; {first}/{second} median {statistics.median(ratios):.3f} "
            f"(min {min(ratios):.3f}, max {max(ratios):.3f}, {len(ratios)} rounds)"
        )


def over_http(trees: dict[str, Path], folder: Path, rounds: int, seconds: float) -> None:
    scripts = {}
    for what, lua in LUA.items():
        scripts[what] = folder / f"{what}.lua"
        scripts[what].write_text(lua % {"code": CODE, "leads": LEADS, "contacts": LEADS * 5})
    servers = {name: start(tree, folder / f"{name}.db", folder) for name, tree in trees.items()}
    results: dict[tuple[str, str], list[float]] = {}
    try:
        for _, port in servers.values():
            wrk(port, scripts["get"], 1, 2)  # warm-up
        for turn in range(rounds):
            order = list(servers.items()) if turn % 2 == 0 else list(reversed(servers.items()))
            for what, connections in (("get", 1), ("get", 64), ("set", 1), ("set", 64)):
                for name, (_, port) in order:
                    rate = wrk(port, scripts[what], connections, seconds)
                    results.setdefault((f"items.{what} c={connections}", name), []).append(rate)
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait()
    report(results, list(trees), "req/s")


def in_process(trees: dict[str, Path], folder: Path, rounds: int) -> None:
    results: dict[tuple[str, str], list[float]] = {}
    for turn in range(rounds):
        order = list(trees.items()) if turn % 2 == 0 else list(reversed(trees.items()))
        for what in ("get", "set"):
            for name, tree in order:
                argv = [PYTHON, "-c", IN_PROCESS, str(folder / f"{name}.db"), what, str(LEADS), CODE]
                out = subprocess.run(argv, env=tree_env(tree), capture_output=True, text=True, check=True)
                results.setdefault((f"items.{what} in-process", name), []).append(float(out.stdout))
    report(results, list(trees), "µs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("trees", nargs=2, metavar="NAME=PATH", help="two source trees (checkouts)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0, help="wrk seconds per scenario and tree")
    parser.add_argument("--in-process", action="store_true", help="time the ASGI app, not the server")
    args = parser.parse_args()
    trees = {name: Path(path).resolve() for name, path in (t.split("=", 1) for t in args.trees)}
    with tempfile.TemporaryDirectory(prefix="b24local-compare-") as scratch:
        folder = Path(scratch)
        for name, tree in trees.items():
            make_database(tree, folder / f"{name}.db")
        if args.in_process:
            in_process(trees, folder, args.rounds)
        else:
            over_http(trees, folder, args.rounds, args.seconds)


if __name__ == "__main__":
    main()
