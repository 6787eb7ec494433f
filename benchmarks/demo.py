"""Benchmark (not a test): time and peak memory of `tandem demo` at a given size.

    .venv/bin/python benchmarks/demo.py                     # 500 participants, 8 weeks (issue target)
    .venv/bin/python benchmarks/demo.py --participants 100 --weeks 4

Runs the real CLI in a child process (quiet, so terminal rendering isn't measured) and prints wall time, CPU
time and the child's peak resident memory. Targets from the foundation issue: well under 20 s and 300 MB.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=500)
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    command = [
        sys.executable,
        "-m",
        "tandem.cli",
        "demo",
        "--quiet",
        "--participants",
        str(args.participants),
        "--weeks",
        str(args.weeks),
        "--seed",
        str(args.seed),
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        sys.exit(f"demo failed ({result.returncode}): {result.stderr.strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak_mb = after.ru_maxrss / 1024  # Linux reports KiB
    print(f"tandem demo --participants {args.participants} --weeks {args.weeks}: {result.stdout.strip()}")
    print(f"wall {wall:.1f} s · CPU {cpu:.1f} s · peak memory {peak_mb:.0f} MB (targets: well under 20 s and 300 MB)")


if __name__ == "__main__":
    main()
