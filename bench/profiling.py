"""Optional: py-spy samples a loaded server (all its processes) during an extra wrk run."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import PY_SPY, RESULTS


def profile(pid: int, name: str, seconds: int, load: Callable[[int], object]) -> dict[str, Any]:
    """Samples process ``pid`` and its subprocesses while ``load(seconds)`` runs; a summary."""
    raw = RESULTS / f"profile-{name.replace('/', '-')}.txt"
    spy = subprocess.Popen(
        [
            str(PY_SPY),
            "record",
            "--pid",
            str(pid),
            "--subprocesses",
            "--duration",
            str(seconds),
            "--rate",
            "200",
            "--format",
            "raw",
            "--output",
            str(raw),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    load(seconds)
    spy.wait(timeout=seconds + 30)
    return summarize(raw)


def _frame_key(frame: str) -> str:
    # "function (path/to/file.py:123)" → "function (file.py)"
    match = re.match(r"(.*?) \((.*?)(?::\d+)?\)$", frame)
    if not match:
        return frame
    func, file = match.groups()
    return f"{func} ({'/'.join(Path(file).parts[-2:])})"


def summarize(raw: Path, top: int = 15) -> dict[str, Any]:
    """Self and inclusive sample shares per function from py-spy's collapsed stacks."""
    self_counts: dict[str, int] = {}
    incl_counts: dict[str, int] = {}
    total = 0
    if not raw.exists():
        return {"error": "py-spy wrote no profile"}
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [_frame_key(f) for f in stack.split(";") if f]
        # With --subprocesses the first frame names the process: not a function.
        frames = [f for f in frames if not f.startswith("process ")]
        if frames:
            self_counts[frames[-1]] = self_counts.get(frames[-1], 0) + count
        for key in set(frames):
            incl_counts[key] = incl_counts.get(key, 0) + count

    def share(counts: dict[str, int]) -> list[tuple[str, float]]:
        ranked = sorted(counts.items(), key=lambda kv: kv[1], reverse=True)[:top]
        return [(k, round(100 * v / max(total, 1), 1)) for k, v in ranked]

    return {"samples": total, "self": share(self_counts), "inclusive": share(incl_counts)}


def print_profiles(profiles: dict[str, Any]) -> None:
    for name, summary in profiles.items():
        print(f"\npy-spy, {name} ({summary.get('samples', 0)} samples), self time:")
        for func, pct in summary.get("self", []):
            print(f"  {pct:5.1f}%  {func}")
        print("inclusive:")
        for func, pct in summary.get("inclusive", []):
            print(f"  {pct:5.1f}%  {func}")
