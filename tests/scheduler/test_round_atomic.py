"""A round's batched writes (groups, members, waitlist, offers, intros) commit together or not at all."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import func, select

import bot.booking.offers
import bot.relationships.intros
import bot.relationships.rounds
from bot.relationships.rounds import run_round
from storage.tables import Delivery, Match, MatchMember, Meeting, Program, Round, Waitlist
from tests.core.harness import Harness

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # Monday
ZONES = ["Europe/Berlin", "America/New_York", "Asia/Tokyo", "Europe/London", "America/Los_Angeles"]


class Crash(Exception):
    """The database or the process failing half-way through the round."""


async def _program(db) -> tuple[Harness, int]:  # noqa: ANN001
    h = Harness.create(db, START)
    await h.create_program(h.actor("UADMIN", "Morgan", admin=True))
    for i, tz in enumerate(ZONES):  # five people: two pairs and a trio, or someone waiting
        profile = {"timezone": tz, "work_start": "09:00", "work_end": "17:00"}
        await h.enrol(h.actor(f"U{i}", f"Person {i}", tz=tz), profile=profile)
    async with db.session() as s:
        program = (await s.exec(select(Program))).one()
    return h, program.id or 0


async def _written(db) -> dict[str, int]:  # noqa: ANN001
    out = {}
    async with db.session() as s:
        for table in (Round, Match, MatchMember, Waitlist, Meeting):
            out[table.__name__] = (await s.exec(select(func.count()).select_from(table))).one()
        out["intro"] = (await s.exec(select(func.count()).where(Delivery.step.in_(["intro", "waitlist"])))).one()  # type: ignore[attr-defined]
    return out


@pytest.mark.parametrize(
    ("module", "name"),
    [
        (bot.booking.offers, "insert_returning_ids"),  # groups and members written, offers not yet
        (bot.relationships.intros, "enqueue"),  # groups, members and offers written, intros not yet
        (bot.relationships.rounds, "insert_rows"),  # groups written, their members not yet
    ],
)
async def test_a_failure_mid_round_leaves_nothing_and_the_rerun_writes_everything_once(  # noqa: ANN001
    db, monkeypatch, module, name
) -> None:
    h, program_id = await _program(db)
    before = await _written(db)
    assert before["Match"] == 0 and before["Round"] == 0

    async def fails(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise Crash()

    with monkeypatch.context() as m:
        m.setattr(module, name, fails)
        with pytest.raises(Crash):
            await run_round(h.core, program_id, 1)
    assert await _written(db) == before, "nothing of the failed round is left"

    rnd = await run_round(h.core, program_id, 1)
    after = await _written(db)
    assert after["Round"] == 1 and after["Match"] >= 2
    assert after["MatchMember"] + after["Waitlist"] == len(ZONES)
    assert after["Meeting"] == after["Match"], "one offer per group"
    assert after["intro"] == after["Match"] + after["Waitlist"], "an intro per group, a note per waiting person"
    again = await run_round(h.core, program_id, 1)
    assert again.id == rnd.id and await _written(db) == after, "a re-run step writes nothing twice"
    async with db.session() as s:
        meetings = (await s.exec(select(Meeting).order_by(Meeting.match_id))).all()  # type: ignore[arg-type]
        matches = (await s.exec(select(Match).order_by(Match.id))).all()  # type: ignore[arg-type]
    assert [m.match_id for m in meetings] == [m.id for m in matches]
    assert all(len(m.slots) == 3 and m.accepted_user_ids == [] for m in meetings)
