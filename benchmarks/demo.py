"""Benchmark (not a test): time and peak memory of `tandem demo` at a given size.

    .venv/bin/python benchmarks/demo.py                     # 500 participants, 8 weeks (issue target)
    .venv/bin/python benchmarks/demo.py --participants 100 --weeks 4
    .venv/bin/python benchmarks/demo.py --db postgresql+psycopg://postgres@127.0.0.1:5432/test

With --db the demo runs on PostgreSQL, in a database of its own created for the run and dropped after.
At 500 participants and 8 weeks it ends with the issue-18 goal row (`ROW` line, see benchmarks/table.py).

Runs the real CLI in a child process (quiet, so terminal rendering isn't measured) and prints wall time, CPU
time and the child's peak resident memory. Targets from the foundation issue: well under 20 s and 300 MB.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@contextmanager
def scratch_database(url: str) -> Iterator[str]:
    """A fresh PostgreSQL database next to the one `url` names, dropped afterwards, so every run starts
    empty; any other URL is used as given."""
    if not url.startswith("postgresql"):
        yield url
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"tandem_bench_demo_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=500)
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db", help="database URL (default: the demo's throwaway SQLite file)")
    args = parser.parse_args()
    with scratch_database(args.db) if args.db else _no_database() as db:
        run(args, db)


@contextmanager
def _no_database() -> Iterator[None]:
    yield None


def run(args: argparse.Namespace, db: str | None) -> None:
    """One timed demo in a child process, then its figures and (at the goal size) its ROW line."""
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
        *(["--db", db] if db else []),
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
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(
        f"wall {wall:.1f} s · CPU {cpu:.1f} s · peak memory {peak_mb:.0f} MB (targets: well under 20 s and 300 MB); "
        f"load average {' '.join(load)}"
    )
    if (args.participants, args.weeks) == (500, 8):
        key, goal = (
            ("demo_500x8_pg_seconds", 30) if db and db.startswith("postgresql") else ("demo_500x8_sqlite_seconds", 20)
        )
        print(f"ROW\t{key}\t{wall:.4g}\t{goal}\ts\tlower")


if __name__ == "__main__":
    main()
