"""One section of a benchmark run: one data size, its servers, checks, rounds of wrk runs, memory, curves.

A section starts every server it needs (b24local per configuration, each SQLite one on its own copy of
the cached database, the PostgreSQL one on a database generated into the cluster; the references),
timing each start; checks every scenario's answer once; runs all (server, scenario) pairs ``rounds``
times, interleaved; reads the servers' memory after the load; measures its cost-curve points at one
connection; and stops everything.
"""

from __future__ import annotations

import shutil
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import checks
from bench.common import CONTACTS_PER_LEAD, RESULTS
from bench.data import cached_postgres, cached_sqlite
from bench.profiling import profile
from bench.servers import Postgres, Server, b24local_server, hello_server, nginx_server, read_server
from bench.wrk import (
    NOISY_PCT,
    REFERENCE,
    SCENARIOS,
    Scenario,
    calibrate,
    run_wrk,
    set_curve_scenario,
    wait_for_quiet,
    wait_until_idle,
    write_script,
)

#: configuration name → (backend, server processes, further ``serve`` arguments)
CONFIGS: dict[str, tuple[str, int, tuple[str, ...]]] = {
    "sqlite1": ("sqlite", 1, ()),
    "sqlite2": ("sqlite", 2, ()),
    "pg2": ("postgres", 2, ()),
    # Only when named in --configs: the price of the default fsync per SQLite commit.
    "sqlite1f": ("sqlite", 1, ("--sqlite-synchronous", "full")),
    "sqlite2f": ("sqlite", 2, ("--sqlite-synchronous", "full")),
}
#: What a run measures unless --configs says otherwise (and what a full run is).
DEFAULT_CONFIGS = ["sqlite1", "sqlite2", "pg2"]


@dataclass(frozen=True)
class Options:
    threads: int
    connections: int
    duration: float
    warmup: float
    rounds: int
    quiet_wait: float
    retries: int
    curve_duration: float
    curve_warmup: float
    timeout: float
    profile: bool
    regenerate: bool


@dataclass(frozen=True)
class Plan:
    """What one section measures."""

    name: str  # "main", "big", "small"
    n_leads: int
    configs: list[str]
    scenarios: list[str]  # under load (empty: curves only)
    references: bool  # hello and nginx, with as many processes as the configurations
    set_curve: list[int]  # items.set sizes to time at one connection (empty: none)
    get_curve: bool  # time items.get at one connection


@dataclass
class Measured:
    """One (server, scenario) pair and its runs."""

    config: str  # the server's name: sqlite1, pg2, hello2, nginx1, ...
    scenario: Scenario
    server: Server
    script: Path
    db_cpu: Callable[[], float] | None
    runs: list[dict[str, Any]] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.config}/{self.scenario.name}"

    def busy_cpu(self) -> float:
        return self.server.cpu_seconds() + (self.db_cpu() if self.db_cpu else 0.0)

    @property
    def url(self) -> str:
        return self.server.base + (self.scenario.path or self.server.probe_path)


def curve_configs(configs: list[str]) -> list[str]:
    """The configurations the cost curves are measured on: the first one of each backend."""
    seen: dict[str, str] = {}
    for name in configs:
        seen.setdefault(CONFIGS[name][0], name)
    return list(seen.values())


class Section:
    def __init__(self, plan: Plan, options: Options, scratch: Path, postgres: Postgres | None) -> None:
        self.plan = plan
        self.options = options
        self.folder = scratch / plan.name
        self.logs = RESULTS / "logs" / plan.name  # kept after the run: the servers' output
        self.postgres = postgres
        self.servers: list[Server] = []
        self.report: dict[str, Any] = {
            "leads": plan.n_leads,
            "contacts": plan.n_leads * CONTACTS_PER_LEAD,
            "bindings": plan.n_leads * CONTACTS_PER_LEAD,
            "configs": plan.configs,
            "scenarios": plan.scenarios,
            "data": {},
            "cold_start_s": {},
            "results": {},
            "runs": {},
            "memory": {},
            "curves": {},
            "calibration_ms": [],
        }

    # -----------------------------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        plan = self.plan
        print(f"\n== section {plan.name}: {plan.n_leads:,} leads ==", flush=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.logs, ignore_errors=True)
        self.logs.mkdir(parents=True)
        try:
            urls = self._prepare_data()
            b24 = {name: self._start_b24local(name, urls[name]) for name in plan.configs}
            measured = [m for name in plan.configs for m in self._b24local_runs(name, b24[name])]
            if plan.references:
                measured = self._reference_runs(b24) + measured
            self._rounds(measured)
            self._memory(b24)
            self._curves(b24)
            if self.options.profile and plan.name == "main":
                self._profile(measured)
        finally:
            for server in self.servers:
                server.stop()
            shutil.rmtree(self.folder, ignore_errors=True)
        self._summarise(measured)
        return self.report

    def _prepare_data(self) -> dict[str, str]:
        """The database URL of every configuration (a fresh SQLite copy each; one PostgreSQL database)."""
        plan, data = self.plan, self.report["data"]
        urls: dict[str, str] = {}
        pristine: Path | None = None
        pg_url: str | None = None
        for name in plan.configs:
            backend = CONFIGS[name][0]
            if backend == "sqlite":
                if pristine is None:
                    pristine, took = cached_sqlite(plan.n_leads, self.options.regenerate)
                    data["sqlite_mb"] = round(pristine.stat().st_size / 2**20, 1)
                    data["sqlite_generation_s"] = None if took is None else round(took, 1)
                    state = "cached" if took is None else f"generated in {took:.1f} s"
                    print(f"  SQLite: {state} ({pristine.name})")
                copy = self.folder / f"{name}.db"
                shutil.copyfile(pristine, copy)  # the writes of one configuration stay in its copy
                urls[name] = f"sqlite:///{copy}"
            else:
                assert self.postgres is not None
                if pg_url is None:
                    pg_url = self.postgres.new_database()
                    print(f"  PostgreSQL: loading {plan.n_leads:,} leads ...", flush=True)
                    took, how = cached_postgres(
                        pg_url, plan.n_leads, self.postgres.bindir, self.options.regenerate
                    )
                    data["postgres_load"] = how
                    data["postgres_load_s"] = round(took, 1)
                    data["postgres_mb"] = round(_pg_size(pg_url) / 2**20, 1)
                    print(f"  PostgreSQL: {how} in {took:.1f} s ({data['postgres_mb']:.0f} MB)")
                urls[name] = pg_url
        return urls

    def _start(self, server: Server) -> Server:
        self.servers.append(server)
        took = server.start()
        self.report["cold_start_s"][server.name] = round(took, 3)
        print(f"  started {server.name}: first 200 answer after {took:.2f} s", flush=True)
        return server

    def _start_b24local(self, name: str, url: str) -> Server:
        _backend, workers, extra = CONFIGS[name]
        server = self._start(b24local_server(name, url, workers, self.logs, extra))
        n = self.plan.n_leads
        checks.check_items_get(server.base, n)
        for scenario in self.plan.scenarios:
            checks.CHECKS[scenario](server.base, n)
        if name in curve_configs(self.plan.configs):
            for size in self.plan.set_curve:
                checks.check_items_set_size(server.base, n, size)
        return server

    def _db_cpu(self, config: str) -> Callable[[], float] | None:
        if CONFIGS[config][0] == "postgres" and self.postgres is not None:
            return self.postgres.cpu_seconds
        return None

    def _b24local_runs(self, name: str, server: Server) -> list[Measured]:
        runs = []
        for scenario_name in self.plan.scenarios:
            scenario = SCENARIOS[scenario_name]
            script = write_script(
                self.folder,
                scenario,
                scenario.path,
                self.plan.n_leads,
                name,
                connections=self.options.connections,
            )
            runs.append(Measured(name, scenario, server, script, self._db_cpu(name)))
        return runs

    def _reference_runs(self, b24: dict[str, Server]) -> list[Measured]:
        """hello, the raw read (with an SQLite configuration) and nginx with each process count the
        configurations use; nginx answers the body of a real items.get answer."""
        first = next(iter(b24.values()))
        body = checks.items_get_body(first.base, self.plan.n_leads)
        counts = sorted({CONFIGS[name][1] for name in self.plan.configs})
        read_copy: Path | None = None
        if any(CONFIGS[name][0] == "sqlite" for name in self.plan.configs):
            pristine, _ = cached_sqlite(self.plan.n_leads, False)
            read_copy = self.folder / "read.db"
            shutil.copyfile(pristine, read_copy)
        runs = []
        for count in counts:
            servers = [hello_server(count, self.logs)]
            if read_copy is not None:
                servers.append(read_server(count, self.logs, read_copy))
            servers.append(nginx_server(count, body, self.folder))
            for server in servers:
                self._start(server)
                checks.check_reference(server.base, server.kind, server.probe_path, body)
                script = write_script(
                    self.folder, REFERENCE, server.probe_path, self.plan.n_leads, server.name
                )
                runs.append(Measured(server.name, REFERENCE, server, script, None))
        return runs

    # -----------------------------------------------------------------------------------------------

    def _measure(
        self, m: Measured, connections: int, duration: float, warmup: float, retries: int
    ) -> dict[str, Any]:
        opts = self.options
        common: dict[str, Any] = {
            "threads": opts.threads,
            "connections": connections,
            "server_cpu": m.server.cpu_seconds,
            "db_cpu": m.db_cpu,
            "timeout": opts.timeout,
        }
        attempt = 0
        for attempt in range(1, retries + 2):
            wait_for_quiet(opts.quiet_wait)
            if warmup > 0:
                run_wrk(m.url, m.script, duration=warmup, **common)
                wait_until_idle(m.busy_cpu)
            print(f"    {m.key:<24} c={connections:<3} ...", end=" ", flush=True)
            result = run_wrk(m.url, m.script, duration=duration, **common)
            # A slow scenario leaves requests queued in the server when wrk stops: let it finish them,
            # so that they do not eat into the next run.
            result["drain_s"] = round(wait_until_idle(m.busy_cpu), 2)
            print(
                f"{result['rps']:>9,.0f} req/s  p50 {result['p50_ms']:7.2f} ms  "
                f"p99 {result['p99_ms']:7.2f} ms",
                flush=True,
            )
            if result["other_cpu_pct"] <= NOISY_PCT:
                break
            print(
                f"      (other processes used {result['other_cpu_pct']:.0f}% of a core meanwhile: "
                + ("redoing)" if attempt <= retries else "keeping it, marked noisy)"),
                flush=True,
            )
        result["attempts"] = attempt
        result["noisy"] = result["other_cpu_pct"] > NOISY_PCT
        return result

    def _rounds(self, measured: list[Measured]) -> None:
        opts = self.options
        if not measured:
            return
        for round_no in range(1, opts.rounds + 1):
            calibration = calibrate()
            self.report["calibration_ms"].append(calibration)
            print(f"  round {round_no}/{opts.rounds} (calibration loop: {calibration:g} ms)")
            for m in measured:
                m.runs.append(self._measure(m, opts.connections, opts.duration, opts.warmup, opts.retries))

    def _memory(self, b24: dict[str, Server]) -> None:
        """After the load: what the server processes (and the PostgreSQL cluster) hold."""
        memory = self.report["memory"]
        for name, server in b24.items():
            memory[name] = vars(server.memory())
        if self.postgres is not None and any(CONFIGS[n][0] == "postgres" for n in b24):
            memory["postgres"] = vars(self.postgres.memory())

    def _curves(self, b24: dict[str, Server]) -> None:
        """Latency per call at one connection: items.get at this size, items.set by number of contacts."""
        plan, opts = self.plan, self.options
        curves = self.report["curves"]
        for name in curve_configs(plan.configs):
            server = b24[name]
            wanted: list[Scenario] = [SCENARIOS["items.get"]] if plan.get_curve else []
            wanted += [set_curve_scenario(size) for size in plan.set_curve]
            for scenario in wanted:
                script = write_script(self.folder, scenario, scenario.path, plan.n_leads, f"curve-{name}")
                m = Measured(name, scenario, server, script, self._db_cpu(name))
                result = self._measure(m, 1, opts.curve_duration, opts.curve_warmup, 0)
                curves.setdefault(scenario.name, {})[name] = result

    def _profile(self, measured: list[Measured]) -> None:
        opts = self.options
        profiles = self.report.setdefault("profiles", {})
        for m in measured:
            if m.server.kind != "b24local":
                continue
            print(f"  profiling {m.key} with py-spy ...", flush=True)

            def load(seconds: int, m: Measured = m) -> object:
                return run_wrk(
                    m.url,
                    m.script,
                    threads=opts.threads,
                    connections=opts.connections,
                    duration=seconds,
                    server_cpu=m.server.cpu_seconds,
                )

            profiles[m.key] = profile(m.server.pid, m.key, max(3, int(opts.duration // 2)), load)

    def _summarise(self, measured: list[Measured]) -> None:
        results = self.report["results"]
        for m in measured:
            m.result = median_result(m.runs)
            self.report["runs"][m.key] = m.runs
        by_key = {m.key: m for m in measured}
        for m in measured:
            processes = m.server.processes
            entry: dict[str, Any] = {
                "config": m.config,
                "scenario": m.scenario.name if m.server.kind == "b24local" else m.server.kind,
                "processes": processes,
                "description": m.scenario.description,
                **m.result,
            }
            for ref in ("hello", "nginx"):
                base = by_key.get(f"{ref}{processes}/{REFERENCE.name}")
                if base is not None and base.result["rps"] > 0:
                    entry[f"ratio_to_{ref}"] = round(m.result["rps"] / base.result["rps"], 3)
            results[m.key] = entry


def _pg_size(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    return int(row[0]) if row else 0


SUMMED = {"requests", "non200", "bad_body", "noop", "status_errors", "connect_errors", "read_errors"}
SUMMED |= {"write_errors", "timeouts", "bytes", "attempts"}


def median_result(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Every number is the median over the rounds; counts of errors are summed."""
    if len(runs) == 1:
        return dict(runs[0])
    out: dict[str, Any] = {}
    for key in runs[0]:
        values = [r[key] for r in runs]
        if key == "noisy":
            out[key] = any(values)
        else:
            out[key] = sum(values) if key in SUMMED else statistics.median(values)
    out["rps_min"] = min(r["rps"] for r in runs)
    out["rps_max"] = max(r["rps"] for r in runs)
    return out
