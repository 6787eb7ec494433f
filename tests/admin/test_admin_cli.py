"""`tandem export` and `tandem import` on the command line: a round trip, and one-line errors with exit 2."""

from __future__ import annotations

import asyncio
import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from storage.database import open_database, upgrade
from storage.tables import Delivery, Membership, Program, User
from tandem.cli import main
from tests.admin.admin_seed import program_with_people
from tests.core.harness import Harness

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


@pytest.fixture
def seeded(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"

    async def seed() -> None:
        db = open_database(url)
        await upgrade(db)
        h = Harness.create(db, START)
        admin, _ = await program_with_people(h)
        await h.create_program(admin, "lunch", name="Lunch", enrolment="opt_out")
        await db.dispose()

    asyncio.run(seed())
    return url


def _query(url: str, fn):  # noqa: ANN001, ANN202
    async def go():  # noqa: ANN202
        db = open_database(url)
        try:
            async with db.session() as s:
                return await fn(s)
        finally:
            await db.dispose()

    return asyncio.run(go())


def test_cli_export_then_import_round_trip(seeded: str, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    out = tmp_path / "export"
    code, stdout, _ = run(["export", "--program", "coffee", "--out", str(out), "--db", seeded], capsys)
    assert code == 0 and "Wrote 7 files" in stdout
    with (out / "participants.csv").open(encoding="utf-8") as handle:
        exported = list(csv.DictReader(handle))
    assert [r["platform_user_id"] for r in exported] == ["U1", "U2", "U3", "U4", "U5", "U6"]

    code, stdout, err = run(["import", str(out / "participants.csv"), "--program", "Lunch", "--db", seeded], capsys)
    assert code == 0, err
    assert "6 enrolled" in stdout

    async def lunch_people(s):  # noqa: ANN001, ANN202
        program = (await s.exec(select(Program).where(Program.name == "Lunch"))).one()
        rows = (
            await s.exec(
                select(Membership, User)
                .join(User, User.id == Membership.user_id)
                .where(Membership.program_id == program.id)
            )
        ).all()
        told = (await s.exec(select(Delivery).where(Delivery.step == "import_invite"))).all()
        return sorted((u.platform_user_id, m.status, m.department) for m, u in rows), len(told)

    people, told = _query(seeded, lunch_people)
    assert [p[0] for p in people] == ["U1", "U2", "U3", "U4", "U5", "U6"]
    assert {p[1] for p in people} == {"active"} and told == 6, "opt-out: enrolled, and every one of them told"
    assert [p[2] for p in people] == [r["department"] for r in exported]


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["import", "nowhere.csv", "--program", "coffee"], "nowhere.csv: no such file"),
        (["import", "{good}", "--program", "tennis"], "--program: no program called 'tennis'"),
        (["export", "--program", "coffee", "--out", "{out}", "--db", "nosuch://x"], "--db:"),
        (["export", "--program", "coffee", "--out", "{good}"], "is not a folder"),
        (["export", "--out", "{out}"], "Missing option '--program'"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(
    seeded: str,
    tmp_path: Path,
    capsys,
    argv: list[str],  # noqa: ANN001
    expected: str,
) -> None:
    good = tmp_path / "good.csv"
    good.write_text("platform_user_id,role\nU1,peer\n", encoding="utf-8")
    args = [a.format(good=good, out=tmp_path / "out") for a in argv]
    if "--db" not in args and args[0] in ("import", "export") and "--program" in args:
        args += ["--db", seeded]
    code, _, err = run(args, capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tandem: ") and expected in lines[0], err


def test_cli_import_reports_every_bad_row_and_imports_nothing(seeded: str, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "platform_user_id,role,timezone,work_start\nU1,peer,Mars/Olympus,09:00\nU2,boss,UTC,9am\n", encoding="utf-8"
    )
    code, _, err = run(["import", str(bad), "--program", "lunch", "--db", seeded], capsys)
    assert code == 2
    assert "bad.csv line 2, timezone" in err and "bad.csv line 3, role" in err and "bad.csv line 3, work_start" in err
    assert err.strip().splitlines()[-1] == "tandem: bad.csv: 3 problem(s); nothing was imported."

    async def lunch_count(s):  # noqa: ANN001, ANN202
        program = (await s.exec(select(Program).where(Program.name == "Lunch"))).one()
        return len((await s.exec(select(Membership).where(Membership.program_id == program.id))).all())

    assert _query(seeded, lunch_count) == 0


def test_cli_import_keeps_own_entries_and_overwrite_replaces_them(seeded: str, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    out = tmp_path / "export"
    run(["export", "--program", "coffee", "--out", str(out), "--db", seeded], capsys)
    with (out / "participants.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["interests"] = "golf"
    changed = tmp_path / "changed.csv"
    with changed.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    code, stdout, err = run(["import", str(changed), "--program", "coffee", "--db", seeded], capsys)
    assert code == 0, err
    assert "Kept what people entered themselves: interests (6 people)" in " ".join(stdout.split())
    code, stdout, err = run(["import", str(changed), "--program", "coffee", "--overwrite", "--db", seeded], capsys)
    assert code == 0 and "Kept" not in stdout, stdout

    async def interests(s):  # noqa: ANN001, ANN202
        return {tuple(m.interests) for m in (await s.exec(select(Membership))).all() if m.program_id == 1}

    assert _query(seeded, interests) == {("golf",)}
