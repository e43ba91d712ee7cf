"""The command line of bench/run.py: options, the sections to run, the report and the exit status."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import NGINX, PY_SPY, RESULTS, ROOT, WRK, CheckFailed
from bench.profiling import print_profiles
from bench.report import machine_facts, print_section, update_doc
from bench.sections import CONFIGS, DEFAULT_CONFIGS, Options, Plan, Section
from bench.servers import Postgres
from bench.wrk import SCENARIOS, has_errors

SMALL_LEADS = 1000  # the small point of the items.get curve


def _names(text: str, known: list[str], what: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown {what} {unknown or text!r}; choose from {','.join(known)}")
    return names


def _sizes(text: str) -> list[int]:
    return [int(n) for n in text.split(",") if n.strip()]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Load benchmark of b24local (SQLite, PostgreSQL) against a raw ASGI hello, a raw ASGI "
        "read and nginx."
    )
    parser.add_argument("--quick", action="store_true", help="small data, short runs; leaves docs alone")
    parser.add_argument("--leads", type=int, help="leads of the main section (default 100000; quick 2000)")
    parser.add_argument(
        "--leads-big", type=int, help="leads of the large-table section (default 1000000; quick 10000)"
    )
    parser.add_argument("--no-big", action="store_true", help="skip the large-table section")
    parser.add_argument(
        "--configs",
        type=lambda t: _names(t, list(CONFIGS), "configs"),
        default=list(DEFAULT_CONFIGS),
        help=f"comma-separated, from {','.join(CONFIGS)} (default {','.join(DEFAULT_CONFIGS)}; "
        "sqlite1f/sqlite2f: sqlite1/sqlite2 with --sqlite-synchronous full)",
    )
    parser.add_argument(
        "--scenarios",
        type=lambda t: _names(t, list(SCENARIOS), "scenarios"),
        default=list(SCENARIOS),
        help=f"comma-separated, from {','.join(SCENARIOS)} (default all)",
    )
    parser.add_argument(
        "--no-references", action="store_true", help="skip the hello, raw read and nginx runs"
    )
    parser.add_argument(
        "--set-sizes",
        type=_sizes,
        default=[10, 100, 1000],
        help="contacts per items.set for its cost curve (default 10,100,1000; empty: no curve)",
    )
    parser.add_argument("--no-curves", action="store_true", help="skip the one-connection cost curves")
    parser.add_argument("--duration", type=float, help="seconds of load per run (default 10; quick 2)")
    parser.add_argument("--warmup", type=float, help="seconds of unmeasured load first (default 2; quick 1)")
    parser.add_argument(
        "--curve-duration", type=float, help="seconds per one-connection curve point (default 5; quick 1)"
    )
    parser.add_argument("--connections", type=int, default=64, help="wrk keep-alive connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        help="wrk's per-request timeout in seconds (a timed-out request counts as an error; default 30)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure every pair this many times, interleaved; the report keeps the medians",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        help="before each run, wait up to this many seconds for other processes to go quiet "
        "(default 20; quick 0: no wait)",
    )
    parser.add_argument(
        "--retries",
        type=int,
        help="redo a run this often if other processes were busy during it (default 1; quick 0)",
    )
    parser.add_argument(
        "--regenerate",
        action="store_true",
        help="rebuild the cached databases (SQLite files, PostgreSQL archives)",
    )
    parser.add_argument("--profile", action="store_true", help="also sample the servers with py-spy")
    parser.add_argument("--no-docs", action="store_true", help="do not update docs/performance.md")
    args = parser.parse_args(argv)
    quick = args.quick
    defaults: dict[str, Any] = {
        "leads": 2000 if quick else 100_000,
        "leads_big": 10_000 if quick else 1_000_000,
        "duration": 2.0 if quick else 10.0,
        "warmup": 1.0 if quick else 2.0,
        "curve_duration": 1.0 if quick else 5.0,
        "quiet_wait": 0.0 if quick else 20.0,
        "retries": 0 if quick else 1,
    }
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.leads < 100 or args.leads_big < 100:
        parser.error("--leads and --leads-big must be at least 100")
    if args.no_curves:
        args.set_sizes = []
    if max(args.set_sizes, default=0) > args.leads * 5:
        parser.error("--set-sizes: more contacts than the main section has")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.profile and not PY_SPY.exists():
        parser.error(f"--profile needs py-spy in the venv ({PY_SPY}): .venv/bin/pip install py-spy")
    return args


def plans(args: argparse.Namespace) -> list[Plan]:
    curves = not args.no_curves
    out = []
    if curves:
        out.append(Plan("small", SMALL_LEADS, args.configs, [], False, [], True))
    out.append(
        Plan("main", args.leads, args.configs, args.scenarios, not args.no_references, args.set_sizes, curves)
    )
    if not args.no_big:
        out.append(
            Plan("big", args.leads_big, args.configs, args.scenarios, not args.no_references, [], curves)
        )
    return out


def is_full_run(args: argparse.Namespace) -> bool:
    """Only a run of everything replaces the figures in docs/performance.md."""
    return (
        not args.quick
        and not args.no_big
        and not args.no_references
        and not args.no_curves
        and args.configs == DEFAULT_CONFIGS
        and args.scenarios == list(SCENARIOS)
    )


def failures(sections: dict[str, dict[str, Any]]) -> list[str]:
    out = []
    for name, section in sections.items():
        out += [f"{name}:{key}" for key, r in section["results"].items() if has_errors(r)]
        for scenario, by_config in section["curves"].items():
            out += [f"{name}:{config}/{scenario}" for config, r in by_config.items() if has_errors(r)]
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not Path(WRK).exists():
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    if not args.no_references and not Path(NGINX).exists():
        raise SystemExit("nginx is not installed (apt-get install nginx-light), or pass --no-references")
    RESULTS.mkdir(parents=True, exist_ok=True)
    started_at = datetime.now(UTC)
    started = time.monotonic()
    options = Options(
        threads=args.threads,
        connections=args.connections,
        duration=args.duration,
        warmup=args.warmup,
        rounds=args.rounds,
        quiet_wait=args.quiet_wait,
        retries=args.retries,
        curve_duration=args.curve_duration,
        curve_warmup=0.0 if args.quick else 1.0,
        timeout=args.timeout,
        profile=args.profile,
        regenerate=args.regenerate,
    )
    print(
        f"configs {','.join(args.configs)}; scenarios {','.join(args.scenarios)}; wrk {args.connections} "
        f"connections, {args.threads} threads, {args.duration:g} s per run (+{args.warmup:g} s warm-up), "
        f"{args.rounds} round(s); wrk shares the {len(os.sched_getaffinity(0))} cores with the servers"
    )
    postgres = Postgres() if any(CONFIGS[c][0] == "postgres" for c in args.configs) else None
    sections: dict[str, dict[str, Any]] = {}
    try:
        if postgres is not None:
            print("starting a throwaway PostgreSQL cluster ...", flush=True)
            postgres.start()
        with tempfile.TemporaryDirectory(prefix="b24bench-") as scratch:
            for plan in plans(args):
                sections[plan.name] = Section(plan, options, Path(scratch), postgres).run()
                print_section(plan.name, sections[plan.name])
    except CheckFailed as exc:
        print(exc, file=sys.stderr)
        return 2
    finally:
        if postgres is not None:
            postgres.stop()

    print("\nsummary")
    for name, section in sections.items():
        print_section(name, section)
    report: dict[str, Any] = {
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "elapsed_min": round((time.monotonic() - started) / 60, 1),
        "machine": machine_facts(postgres.bindir if postgres else None),
        "settings": {
            "configs": args.configs,
            "scenarios": args.scenarios,
            "connections": args.connections,
            "threads": args.threads,
            "timeout": args.timeout,
            "duration": args.duration,
            "warmup": args.warmup,
            "curve_duration": args.curve_duration,
            "rounds": args.rounds,
            "quick": args.quick,
        },
        "sections": sections,
    }
    for name, section in sections.items():
        if section.get("profiles"):
            print(f"\nprofiles ({name})")
            print_profiles(section["profiles"])
    (RESULTS / "latest.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {(RESULTS / 'latest.json').relative_to(ROOT)} ({report['elapsed_min']:.1f} min)")
    if is_full_run(args) and not args.no_docs:
        update_doc(report)
        print("updated docs/performance.md")
    elif not args.no_docs:
        print("docs/performance.md left alone (only a full run without --quick writes it)")
    failed = failures(sections)
    if failed:
        print(
            f"ERRORS (non-200 answers, failed batch commands or socket errors) in: {', '.join(failed)}",
            file=sys.stderr,
        )
        return 1
    return 0
