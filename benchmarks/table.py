"""Issue 18's goal table: runs every goal benchmark once, collects their ROW lines and prints one table.

Run:  .venv/bin/python benchmarks/table.py
      .venv/bin/python benchmarks/table.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/test
      .venv/bin/python benchmarks/table.py --only match_50k_seconds,round_20k_seconds

Each benchmark prints its own figures and ends with lines `ROW<TAB>key<TAB>measured<TAB>goal<TAB>unit<TAB>better`
(better is `higher` or `lower`). The table shows the ratio to the goal, oriented so that >= 1.0 means met,
and the machine's load average and CPU count at the start and the end: the figures are wall times on a
shared machine, so a busy one reads slower than the code is. This takes a while (tens of minutes):
run it once, not in a loop. A benchmark script that does not exist yet is skipped with a line saying so.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Row:
    key: str
    measured: float
    goal: float
    unit: str
    better: str

    @property
    def ratio(self) -> float:
        """Measured against the goal, >= 1.0 when met, whichever way is better."""
        if self.better == "higher":
            return self.measured / self.goal if self.goal else float("inf")
        if self.measured == 0:
            return float("inf")
        return self.goal / self.measured

    @property
    def met(self) -> bool:
        return self.measured >= self.goal if self.better == "higher" else self.measured <= self.goal


def parse_rows(output: str) -> list[Row]:
    """The ROW lines in a benchmark's output; anything else (its own report) is ignored. A malformed
    ROW line is an error: a goal row that silently disappears would read as "not measured"."""
    rows = []
    for line in output.splitlines():
        if not line.startswith("ROW\t"):
            continue
        parts = line.rstrip("\r\n").split("\t")
        if len(parts) != 6 or parts[5] not in ("higher", "lower"):
            raise ValueError(f"malformed ROW line: {line!r}")
        _, key, measured, goal, unit, better = parts
        rows.append(Row(key, float(measured), float(goal), unit, better))
    return rows


@dataclass(frozen=True)
class Bench:
    """One benchmark run: the script, its arguments, and the row keys it is expected to print."""

    script: str
    args: tuple[str, ...]
    keys: tuple[str, ...]


def benches(pg: str | None) -> list[Bench]:
    out = [
        Bench(
            "matching.py",
            ("--rows",),
            ("quality_mentoring_10k", "quality_peers_10k", "match_50k_seconds", "match_50k_mb"),
        ),
        Bench("round.py", (), ("round_20k_seconds",)),
        Bench("demo.py", (), ("demo_500x8_sqlite_seconds",)),
        Bench(
            "slack_http.py",
            (),
            ("events_per_second", "event_backlog_max", "slack_posts_share", "slack_lost", "slack_duplicates"),
        ),
        Bench("delivery.py", (), ("cancel_resent",)),
        Bench("simulate.py", (), ("simulate_200x12_seconds",)),
    ]
    if pg:
        out.insert(3, Bench("demo.py", ("--db", pg), ("demo_500x8_pg_seconds",)))
    return out


def _load() -> str:
    try:
        load = Path("/proc/loadavg").read_text().split()[:3]
    except OSError:
        return "load average unknown"
    return f"load average {' '.join(load)}, {os.cpu_count()} CPUs"


def run_bench(bench: Bench) -> tuple[list[Row], str | None]:
    """Rows the script printed, and a note when it failed or is missing."""
    path = REPO / "benchmarks" / bench.script
    if not path.exists():
        return [], f"skipped: benchmarks/{bench.script} does not exist yet"
    command = [sys.executable, str(path), *bench.args]
    print(f"\n$ {' '.join(['python', f'benchmarks/{bench.script}', *bench.args])}   ({_load()})", flush=True)
    started = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    print(proc.stdout.rstrip(), flush=True)
    note = None
    if proc.returncode:
        tail = proc.stderr.strip().splitlines()[-3:]
        note = f"exit code {proc.returncode}: {' | '.join(tail)}"
    try:
        rows = parse_rows(proc.stdout)
    except ValueError as exc:
        return [], str(exc)
    print(f"({time.perf_counter() - started:.0f} s)", flush=True)
    return rows, note


def table(rows: list[Row], missing: list[tuple[str, str]]) -> str:
    lines = [f"{'row':<28} {'measured':>10} {'goal':>8} {'unit':<5} {'ratio':>6}  met?"]
    for r in rows:
        lines.append(
            f"{r.key:<28} {r.measured:>10.4g} {r.goal:>8g} {r.unit:<5} {r.ratio:>6.2f}  {'yes' if r.met else 'NO'}"
        )
    for key, why in missing:
        lines.append(f"{key:<28} {'-':>10} {'':>8} {'':<5} {'-':>6}  not measured ({why})")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="", help="comma-separated row keys; runs only the benchmarks printing them")
    parser.add_argument("--pg", help="PostgreSQL URL for the demo's PostgreSQL row (skipped without it)")
    args = parser.parse_args()
    only = {k for k in args.only.split(",") if k}
    start_load = _load()
    print(f"issue 18 goal table; start: {start_load}")
    rows: list[Row] = []
    missing: list[tuple[str, str]] = []
    for bench in benches(args.pg):
        if only and not only & set(bench.keys):
            continue
        got, note = run_bench(bench)
        if note:
            print(note, flush=True)
        got = [r for r in got if not only or r.key in only]
        rows += got
        seen = {r.key for r in got}
        missing += [(k, note or "no ROW line") for k in bench.keys if k not in seen and (not only or k in only)]
    if not args.pg and (not only or "demo_500x8_pg_seconds" in only):
        missing.append(("demo_500x8_pg_seconds", "no --pg URL given"))
    print(f"\n## Goal table (start: {start_load}; end: {_load()})")
    print(table(rows, missing))


if __name__ == "__main__":
    main()
