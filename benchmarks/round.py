"""Benchmark (not a test): plan and queue one weekly round for a big program, as the scheduler does.

    .venv/bin/python benchmarks/round.py                          # 20k people, peer, temporary SQLite file
    .venv/bin/python benchmarks/round.py --people 2000 --kind mentoring
    .venv/bin/python benchmarks/round.py --db postgresql+psycopg://postgres@127.0.0.1:5432/test

Setup (not timed) writes a workspace, a program and its members straight through storage, with the
profiles of benchmarks/profiles.py, and optionally runs earlier rounds. Then one call of
``bot.relationships.rounds.run_round`` (what the scheduler's round step calls) is timed: matching, slot
search, storing groups and meetings, writing the intros to the outbox, and the commit. The split comes from
timers around the stages (wall and CPU time: on a shared machine wall time includes waiting for a core);
"other" is building messages, the smaller reads and the commit. For 20k people in SQLite the last line is
the issue-18 row ``round_20k_seconds`` (goal 10 s); docs/delivery.md has the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, text  # noqa: E402

import bot.booking.offers as offers_module  # noqa: E402
import bot.relationships.intros as intros_module  # noqa: E402
import bot.relationships.rounds as rounds_module  # noqa: E402
from adapters.console.port import PLATFORM, ConsolePort  # noqa: E402
from benchmarks.profiles import make_people  # noqa: E402
from bot.content import load_library  # noqa: E402
from bot.core import Tandem  # noqa: E402
from bot.kernel.clock import SimulatedClock  # noqa: E402
from storage.database import Database, open_database, upgrade  # noqa: E402
from storage.tables import Delivery, Match, Meeting, Membership, Program, User, Workspace  # noqa: E402

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday morning
GOAL_SECONDS = 10.0
STAGES = {  # stage → (module, function) timed around every call
    "pool": (rounds_module, "pool_for"),
    "matching": (rounds_module, "preview"),
    "inserts": (rounds_module, "_store_groups"),
    "groups": (intros_module, "match_groups"),
    "slots": (offers_module, "plan_for"),
    "offers": (intros_module, "offer_round"),
    "outbox": (intros_module, "enqueue"),
}


@contextlib.contextmanager
def stage_timers(spent: dict[str, float]) -> Iterator[None]:
    """Wrap each stage's function so its time (sync or async) adds up in ``spent``; undone on exit.

    CPU time (this process, all threads) adds up under ``name + " cpu"``: on a shared machine, wall time
    also counts waiting for a core. Stages may nest (slots inside offers): their time is shown on its own.
    """
    saved: list[tuple[Any, str, Callable[..., Any]]] = []
    for name, (module, attr) in STAGES.items():
        original = getattr(module, attr)
        saved.append((module, attr, original))
        setattr(module, attr, _timed(name, original, spent))
    try:
        yield
    finally:
        for module, attr, original in saved:
            setattr(module, attr, original)


def _timed(name: str, original: Callable[..., Any], spent: dict[str, float]) -> Callable[..., Any]:
    if asyncio.iscoroutinefunction(original):

        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            began, cpu = time.perf_counter(), time.process_time()
            try:
                return await original(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - began
                spent[name + " cpu"] += time.process_time() - cpu

        return timed_async

    def timed(*args: Any, **kwargs: Any) -> Any:
        began, cpu = time.perf_counter(), time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            spent[name] += time.perf_counter() - began
            spent[name + " cpu"] += time.process_time() - cpu

    return timed


async def populate(db: Database, people: int, kind: str, seed: int) -> int:
    """A workspace, one program and its members, written in bulk; returns the program id."""
    if kind == "mentoring":
        mentors = max(1, people // 4)
        profiles = make_people(mentors, seed + 7, role="mentor", prefix="M", capacity=3)
        profiles += make_people(people - mentors, seed, role="mentee", prefix="E")
    else:
        profiles = make_people(people, seed)
    async with db.transaction() as session:
        workspace = Workspace(platform=PLATFORM, external_id="T-BENCH", name="Bench", installed_at=START)
        session.add(workspace)
        await session.flush()
        program = Program(
            workspace_id=workspace.id or 0,
            name="Coffee" if kind == "peer" else "Mentoring",
            channel_id="C-BENCH",
            kind=kind,
            timezone="Europe/Berlin",
            created_at=START,
            starts_on=START,
        )
        session.add(program)
        await session.flush()
        connection = await session.connection()
        users = [
            {
                "workspace_id": workspace.id,
                "platform_user_id": p.id,
                "display_name": f"Person {p.id}",
                "timezone": p.timezone,
                "work_start": p.working_hours[0],
                "work_end": p.working_hours[1],
                "created_at": START,
            }
            for p in profiles
        ]
        await connection.execute(insert(User), users)
        ids = dict(
            (
                await connection.execute(
                    text("SELECT platform_user_id, id FROM tandem_user WHERE workspace_id = :w"), {"w": workspace.id}
                )
            ).all()
        )
        members = [
            {
                "program_id": program.id,
                "user_id": ids[p.id],
                "role": p.role,
                "capacity": p.capacity,
                "skills_offered": list(p.skills_offered),
                "skills_wanted": list(p.skills_wanted),
                "interests": list(p.interests),
                "department": p.department,
                "status": "active",
                "consented_at": START,
                "joined_at": START,
            }
            for p in profiles
            if not p.paused
        ]
        await connection.execute(insert(Membership), members)
        return program.id or 0


async def counts(db: Database) -> dict[str, int]:
    async with db.session() as session:
        connection = await session.connection()
        out = {}
        for table in (Match, Meeting, Delivery):
            name = table.__tablename__  # type: ignore[attr-defined]
            out[name] = (await connection.execute(text(f"SELECT count(*) FROM {name}"))).scalar_one()
        return out


async def run(args: argparse.Namespace, url: str, schema: str | None) -> float:
    db = open_database(url, schema=schema)
    await upgrade(db)
    clock = SimulatedClock(START)
    core = Tandem(db, clock=clock, instance_id="bench", pacing=False)
    core.register_port(PLATFORM, ConsolePort(clock=clock))
    began = time.perf_counter()
    program_id = await populate(db, args.people, args.kind, args.seed)
    for _ in range(args.earlier_rounds):  # earlier rounds (setup, not timed): history, ended groups, busy times
        await rounds_module.run_round(core, program_id)
        clock.set(clock.now() + timedelta(days=7))
    load_library()  # a running server has its content library loaded long before a round
    print(f"setup: {time.perf_counter() - began:.1f} s ({args.people} people, {args.kind}, {db.describe()})")
    spent: dict[str, float] = defaultdict(float)
    load = os.getloadavg()[0]
    with stage_timers(spent):
        began, cpu = time.perf_counter(), time.process_time()
        rnd = await rounds_module.run_round(core, program_id)
        total, cpu = time.perf_counter() - began, time.process_time() - cpu
    written = await counts(db)
    await db.dispose()
    outer = [name for name in STAGES if name != "slots"]  # slots run inside offers
    other = total - sum(spent[name] for name in outer)
    other_cpu = cpu - sum(spent[name + " cpu"] for name in outer)
    split = " · ".join(f"{name} {spent[name]:.2f}/{spent[name + ' cpu']:.2f}" for name in STAGES)
    print(f"round {rnd.number}: {total:.2f} s wall, {cpu:.2f} s CPU; load {load:.2f} before")
    print(f"  stages, wall/CPU seconds: {split} · other (messages, reads, commit) {other:.2f}/{other_cpu:.2f}")
    print(f"written: {written['match']} matches, {written['meeting']} meetings, {written['delivery']} deliveries")
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--kind", choices=["peer", "mentoring"], default="peer")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--earlier-rounds", type=int, default=0, help="untimed rounds run first")
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        if args.db:
            schema = f"bench_round_{uuid.uuid4().hex[:8]}"
            asyncio.run(_make_schema(args.db, schema))
            try:
                total = asyncio.run(run(args, args.db, schema))
            finally:
                asyncio.run(_drop_schema(args.db, schema))
        else:
            total = asyncio.run(run(args, f"sqlite:///{Path(folder) / 'round.db'}", None))
    if args.people == 20_000 and args.kind == "peer" and not args.db:  # the goal row is the SQLite one
        print(f"ROW\tround_20k_seconds\t{total:.2f}\t{GOAL_SECONDS:g}\ts\tlower")


async def _make_schema(url: str, schema: str) -> None:
    admin = open_database(url)
    async with admin.engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    await admin.dispose()


async def _drop_schema(url: str, schema: str) -> None:
    admin = open_database(url)
    async with admin.engine.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    await admin.dispose()


if __name__ == "__main__":
    main()
