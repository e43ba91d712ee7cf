"""A fuzz run in-process: the real ASGI app over a real database, called as an ASGI server calls it.

The app is built as ``b24local serve`` builds it (cli/serve.py) on a new database, with a few users and
webhooks (one per caller of encode.CALLERS) and a few dozen seeded leads, contacts and bindings. Each
request is judged at once: its answer (checks.py), its time against the median of a trivial call
(``profile``) measured all through the same run, and after a write the database invariants.
"""

from __future__ import annotations

import asyncio
import json
import logging
import statistics
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from b24local.app import App
from b24local.auth.webhooks import hash_secret, new_code
from b24local.config import Config
from b24local.methods.families import load_all
from b24local.methods.registry import CallsMethod
from b24local.protocol.address import parse_rest_path
from b24local.storage.base import Storage
from b24local.storage.open import open_storage
from tests.fuzz.asgi import JSON_HEADERS, asgi_request
from tests.fuzz.checks import Invariants, answer_problems
from tests.fuzz.encode import FuzzRequest
from tests.fuzz.generators import generate, plan
from tests.fuzz.params import Catalogue
from tests.fuzz.values import ODD_STRINGS

#: A request may take this many times the median ``profile`` call of the same run...
MULTIPLE = 300
#: ...but is never held to less than this (seconds): a garbage collection or a busy neighbour.
FLOOR = 2.0
#: A ``profile`` call after every this many requests keeps the median current.
PROFILE_EVERY = 25
WARMUP = 20
#: A generator (for plain calls: a method) that was too slow this often is not sent again (its
#: failures are reported): a stall found once would otherwise take the run from seconds to hours.
MUTE_AFTER = 2
#: Failures kept whole per (problem, generator, method); the others are counted.
KEEP = 3


@dataclass(frozen=True, slots=True)
class Answer:
    status: int  # 0: an exception escaped the app
    body: bytes
    elapsed: float  # seconds
    trace: str = ""


@dataclass(slots=True)
class Failure:
    index: int
    label: str  # what kind of problem: "status 500", "not JSON", "slow", "invariant", ...
    detail: str
    request: FuzzRequest
    status: int
    body: bytes
    trace: str = ""

    def text(self, seed: str) -> str:
        lines = [
            f"{self.label}: {self.detail}",
            f"  seed {seed!r} index {self.index} (python -m tests.fuzz {seed} {self.index})"
            if self.index >= 0
            else "  while seeding the database",
            f"  request: {self.request.describe()}",
            f"  answer: {self.status} {self.body[:300]!r}",
        ]
        if self.trace:
            lines.append("  traceback (last lines): " + " | ".join(self.trace.strip().splitlines()[-6:]))
        return "\n".join(lines)


@dataclass(slots=True)
class Report:
    backend: str
    seed: str
    count: int
    statuses: Counter[int] = field(default_factory=Counter)
    profile_times: list[float] = field(default_factory=list)
    worst: tuple[float, int, str] = (0.0, -1, "")  # ratio to the median profile call, index, kind
    seconds: float = 0.0
    muted: int = 0
    #: How often each (problem, generator, method) failed, and the first few failures of each.
    counts: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    examples: dict[tuple[str, str, str], list[Failure]] = field(default_factory=dict)

    def add(self, failure: Failure) -> None:
        key = (failure.label, failure.request.kind, failure.request.method)
        self.counts[key] += 1
        if self.counts[key] <= KEEP:
            self.examples.setdefault(key, []).append(failure)

    @property
    def failures(self) -> int:
        return self.counts.total()

    def summary(self) -> str:
        ratio, index, kind = self.worst
        median = statistics.median(self.profile_times) if self.profile_times else 0.0
        statuses = ", ".join(f"{s}: {n:,}" for s, n in sorted(self.statuses.items()))
        return (
            f"fuzz {self.backend} seed={self.seed!r}: {self.count:,} requests "
            f"(+{len(self.profile_times):,} profile calls) in {self.seconds:.1f} s; statuses {statuses}; "
            f"worst {ratio:.0f}x the median profile call ({median * 1000:.2f} ms) at index {index} ({kind}); "
            f"muted {self.muted:,}; failures {self.failures:,} in {len(self.counts)} groups"
        )

    def groups(self) -> str:
        """One line per (problem, generator, method): how often, and the first request index."""
        lines = []
        for key, count in sorted(self.counts.items(), key=lambda item: -item[1]):
            label, kind, method = key
            first = self.examples[key][0]
            lines.append(f"  {count:>6,}x {label} [{kind}] {method or '-'} (first: index {first.index})")
        return "\n".join(lines)

    def failure_text(self, groups: int = 40) -> str:
        """The first failure of each (problem, generator, method), with how often it happened."""
        keys = list(self.examples)
        parts = [f"{self.counts[k]}x {self.examples[k][0].text(self.seed)}" for k in keys[:groups]]
        more = f"\n... and {len(keys) - groups} more groups" if len(keys) > groups else ""
        return f"{self.summary()}\n" + "\n".join(parts) + more


class _Faults(logging.Handler):
    """Tracebacks the app logged (a 500, or a batch command that failed inside)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.traces: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + "".join(traceback.format_exception(*record.exc_info))
        self.traces.append(text)

    def take(self) -> str:
        text, self.traces = "\n".join(self.traces), []
        return text


def _callers(storage: Storage) -> dict[str, str]:
    """``<caller>`` placeholder → the ``{user}/{code}`` of a webhook made for this run."""
    out: dict[str, str] = {}
    with storage.write() as tx:
        for name, admin, crm_access, scopes in (
            ("admin", True, True, ("crm",)),
            ("user", False, True, ("crm",)),
            ("noscope", False, True, ("user",)),
            ("noaccess", False, False, ("crm",)),
        ):
            code = new_code()
            user_id = tx.user_add(name.title(), "", admin, crm_access)
            tx.webhook_add(user_id, hash_secret(code), scopes)
            out[f"<{name}>"] = f"{user_id}/{code}"
    out["<wrong>"] = out["<admin>"].split("/")[0] + "/" + new_code()
    out["<nouser>"] = "987654321/" + new_code()
    return out


class Run:
    def __init__(self, url: str, backend: str, seed: str, count: int) -> None:
        self.storage = open_storage(url, serving=True)
        self.callers = _callers(self.storage)
        self.app = App(Config(database_url=url), self.storage)
        self.invariants = Invariants(url)
        self.report = Report(backend, seed, count)
        self.writes = {name for name, m in load_all().items() if isinstance(m, CallsMethod) or m.write}
        self.faults = _Faults()
        self.median = 0.0

    def path(self, request: FuzzRequest) -> str:
        path = request.path
        for placeholder, value in self.callers.items():
            path = path.replace(placeholder, value)
        return path

    async def send(self, request: FuzzRequest) -> Answer:
        started = time.perf_counter()
        path = self.path(request)
        try:
            status, body = await asgi_request(
                self.app, request.verb, path, query=request.query, headers=request.headers, body=request.body
            )
        except Exception:
            return Answer(0, b"", time.perf_counter() - started, traceback.format_exc())
        return Answer(status, body, time.perf_counter() - started)

    async def call(self, method: str, params: dict[str, object]) -> tuple[int, Any]:
        """A JSON call by the admin: (status, result or error body)."""
        path = self.path(FuzzRequest("seed", "POST", f"/rest/<admin>/{method}"))
        body = json.dumps(params).encode()
        status, answer = await asgi_request(self.app, "POST", path, headers=JSON_HEADERS, body=body)
        parsed = json.loads(answer)
        return status, parsed["result"] if status == 200 else parsed

    async def add(self, method: str, fields: dict[str, object], plain: dict[str, object]) -> int:
        """Add with ``fields``; where they are refused, with ``plain`` (which must pass)."""
        status, result = await self.call(method, {"fields": fields})
        if status >= 500:  # a fault while seeding is a finding like any other
            request = FuzzRequest(
                "seed", "POST", f"/rest/<admin>/{method}", method, body=repr(fields).encode()
            )
            failure = Failure(-1, f"status {status}", "while seeding", request, status, repr(result).encode())
            failure.trace = self.faults.take()
            self.report.add(failure)
        if status != 200:
            status, result = await self.call(method, {"fields": plain})
        assert status == 200, (method, result)
        return int(result)

    async def catalogue(self) -> Catalogue:
        cat = Catalogue(load_all())
        for name in cat.names:
            if name.endswith(".fields"):
                status, described = await self.call(name, {})
                assert status == 200 and isinstance(described, dict), (name, described)
                cat.fields[name.removesuffix(".fields")] = described
        return cat

    async def seed_data(self) -> None:
        """30 contacts and 30 leads, most of the first twenty with bindings, named with odd strings
        (where the server takes them) so that reading them back (JSON, XML) meets what was let in."""
        odd = ODD_STRINGS
        contacts = [
            await self.add("crm.contact.add", {"NAME": odd[i % len(odd)]}, {"NAME": "C"}) for i in range(30)
        ]
        for i in range(30):
            bound = [c for n, c in enumerate(contacts) if (n + i) % 7 == 0] if i < 20 else []
            title = odd[(i + 30) % len(odd)]
            await self.add("crm.lead.add", {"TITLE": title, "CONTACT_IDS": bound}, {"CONTACT_IDS": bound})

    async def profile(self) -> None:
        answer = await self.send(FuzzRequest("profile", "POST", "/rest/<admin>/profile"))
        assert answer.status == 200, answer
        self.report.profile_times.append(answer.elapsed)
        self.median = statistics.median(self.report.profile_times)

    def is_write(self, request: FuzzRequest) -> bool:
        address = parse_rest_path(self.path(request))
        return address is not None and address.method in self.writes

    def judge(self, index: int, request: FuzzRequest, answer: Answer) -> None:
        status, body, elapsed, trace = answer.status, answer.body, answer.elapsed, answer.trace
        report = self.report
        report.statuses[status] += 1
        found = [(problem.split(":")[0], problem) for problem in answer_problems(request, status, body)]
        logged = self.faults.take()
        if trace:
            found.append(("exception escaped the app", trace.strip().splitlines()[-1]))
        elif logged and not found:
            found.append(("fault logged", logged.splitlines()[0]))
        ratio = elapsed / self.median
        bound = max(FLOOR, MULTIPLE * self.median)
        if elapsed > bound:
            found.append(
                ("slow", f"{elapsed:.2f} s, {ratio:.0f}x the median profile call (bound {bound:.2f} s)")
            )
        if ratio > report.worst[0]:
            report.worst = (ratio, index, request.kind)
        if self.is_write(request):
            found += [("invariant", violation) for violation in self.invariants.violations()]
        for label, detail in found:
            report.add(Failure(index, label, detail, request, status, body[:1_000], trace or logged))

    async def run(self) -> Report:
        logger = logging.getLogger("b24local")
        logger.addHandler(self.faults)
        logger.propagate = False  # the failures carry their tracebacks; pytest need not print them all
        started = time.perf_counter()
        try:
            cat = await self.catalogue()
            await self.seed_data()
            self.faults.take()  # those of seeding are reported already
            for _ in range(WARMUP):
                await self.profile()
            fixed = plan(cat)
            strikes: Counter[tuple[str, str]] = Counter()
            for index in range(self.report.count):
                if index % PROFILE_EVERY == 0:
                    await self.profile()
                request = generate(self.report.seed, index, cat, fixed)
                key = (request.kind, request.method if request.kind == "call" else "")
                if strikes[key] >= MUTE_AFTER:
                    self.report.muted += 1
                    continue
                before = self.report.counts[("slow", request.kind, request.method)]
                self.judge(index, request, await self.send(request))
                strikes[key] += self.report.counts[("slow", request.kind, request.method)] > before
        finally:
            logger.removeHandler(self.faults)
            logger.propagate = True
            self.report.seconds = time.perf_counter() - started
            self.close()
        return self.report

    def close(self) -> None:
        self.invariants.close()
        self.storage.close()


def run_fuzz(url: str, backend: str, seed: str, count: int) -> Report:
    return asyncio.run(Run(url, backend, seed, count).run())
