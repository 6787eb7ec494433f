"""Benchmark (not a test): time of `tandem simulate` for a roster of a given size (issue 17: 200 people, 12 weeks).

    .venv/bin/python benchmarks/simulate.py                  # 200 people, 12 weeks (issue target: under 30 s)
    .venv/bin/python benchmarks/simulate.py --people 50 --weeks 4

Writes a peer roster in the import's format (four time zones, each with its own working hours) to a temporary
directory, runs the real CLI in a child process and prints wall time, CPU time, peak memory and the machine's
load, then a ROW line (benchmarks/table.py reads those).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GOAL_SECONDS = 30
ZONES = (
    ("Europe/London", "09:00", "17:00"),
    ("America/New_York", "09:00", "17:30"),
    ("Asia/Kolkata", "10:00", "18:00"),
    ("Australia/Sydney", "08:30", "16:30"),
)
INTERESTS = ("chess", "running", "cooking", "jazz", "hiking", "films", "gardening", "board games")


def roster(count: int, seed: int) -> str:
    """A clean roster: e-mail, name, role, interests, department, zone and hours per person."""
    rng = random.Random(seed)
    lines = ["email,name,role,interests,department,timezone,work_start,work_end"]
    for i in range(count):
        zone, start, end = ZONES[rng.randrange(len(ZONES))]
        interests = ";".join(rng.sample(INTERESTS, 2))
        lines.append(f"p{i}@example.com,Person {i},peer,{interests},Team {i % 7},{zone},{start},{end}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tandem-bench-simulate-") as tmp:
        path = Path(tmp) / "roster.csv"
        path.write_text(roster(args.people, args.seed), encoding="utf-8")
        command = [sys.executable, "-m", "tandem.cli", "simulate", "--roster", str(path), "--weeks", str(args.weeks)]
        command += ["--seed", str(args.seed), "--out", str(Path(tmp) / "report")]
        load = os.getloadavg()[0]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        result = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        sys.exit(f"simulate failed ({result.returncode}): {result.stderr.strip()[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    load = max(load, os.getloadavg()[0])
    print(f"tandem simulate, {args.people} people, {args.weeks} weeks")
    print(f"wall {wall:.1f} s · CPU {cpu:.1f} s · peak memory {after.ru_maxrss / 1024:.0f} MB · load {load:.2f}")
    print(f"ROW\tsimulate_{args.people}x{args.weeks}_seconds\t{wall:.1f}\t{GOAL_SECONDS}\ts\tlower")


if __name__ == "__main__":
    main()
