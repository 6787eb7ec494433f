"""Pause and vacation: every step honours a pause, it ends by itself, and people are told they're back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.schedule.wakeup import next_due
from storage.tables import MatchMember, Membership, User
from tests.core.harness import Harness

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # Monday 09:00 Berlin; rounds on Mondays at 10:00
PROFILE = {"timezone": "Europe/Berlin", "work_start": "09:00", "work_end": "17:00"}


async def _people(h: Harness, names: list[tuple[str, str]]) -> dict:
    await h.create_program(h.actor("UADMIN", "Morgan", admin=True))
    actors = {}
    for uid, name in names:
        actors[uid] = h.actor(uid, name)
        await h.enrol(actors[uid], profile=PROFILE)
    return actors


async def _run_until(h: Harness, end: datetime) -> None:
    while True:
        due = await next_due(h.core, h.clock.now())
        if due is None or due > end:
            h.clock.set(end)
            await h.core.tick()
            return
        h.clock.set(due)
        await h.core.tick()


def _texts(h: Harness, uid: str, since: int = 0) -> list[str]:
    return [s.message.plain_text() for s in h.port.sent[since:] if uid in s.audience]


async def _matched(h: Harness) -> set[str]:
    async with h.core.db.session() as s:
        rows = (await s.exec(select(User.platform_user_id).join(MatchMember, MatchMember.user_id == User.id))).all()
    return set(rows)


async def test_pause_ending_mid_round_skips_that_round_then_rejoins(db) -> None:  # noqa: ANN001
    h = Harness.create(db, START)
    people = await _people(h, [("U1", "Ana"), ("U2", "Ben"), ("U3", "Chen"), ("U4", "Dee")])
    reply = await h.command(people["U3"], "pause until 2026-03-04")  # ends Wednesday 00:00 Berlin
    assert "Paused until Wed 4 Mar, 00:00" in reply.message.plain_text()
    mark = len(h.port.sent)
    await _run_until(h, datetime(2026, 3, 3, 22, 0, tzinfo=UTC))  # Tuesday night: still paused
    assert "U3" not in await _matched(h), "paused people are not matched"
    assert _texts(h, "U3", mark) == [], "no intro, prompt or survey while paused"
    await _run_until(h, datetime(2026, 3, 4, 0, 0, tzinfo=UTC))  # the pause ended at 23:00 UTC
    back = _texts(h, "U3", mark)
    assert len(back) == 1 and "Welcome back" in back[0]
    await _run_until(h, datetime(2026, 3, 6, 12, 0, tzinfo=UTC))  # Thursday's check-in: Chen has no match yet
    assert not any("Did you meet" in t for t in _texts(h, "U3", mark))
    await _run_until(h, datetime(2026, 3, 9, 12, 0, tzinfo=UTC))  # next Monday's round includes Chen
    assert "U3" in await _matched(h)
    assert any("matched in" in t for t in _texts(h, "U3", mark))
    assert sum("Welcome back" in t for t in _texts(h, "U3")) == 1, "told once"
    async with db.session() as s:
        assert all(m.paused_until is None for m in (await s.exec(select(Membership))).all())


async def test_matched_person_pausing_gets_no_survey_until_back(db) -> None:  # noqa: ANN001
    h = Harness.create(db, START)
    people = await _people(h, [("U1", "Ana"), ("U2", "Ben"), ("U3", "Chen"), ("U4", "Dee")])
    await _run_until(h, START + timedelta(hours=2))  # Monday's round: everyone matched
    partner_of_ana = next(
        s.audience for s in h.port.sent if "matched in" in s.message.plain_text() and "U1" in s.audience
    )
    ana_partner = next(u for u in partner_of_ana if u != "U1")
    await h.command(people[ana_partner], "pause until 2026-03-14")  # away past Thursday's check-in
    await h.command(people["U1"], "pause until 2026-03-04")  # back before it
    mark = len(h.port.sent)
    await _run_until(h, datetime(2026, 3, 6, 12, 0, tzinfo=UTC))
    assert any("Did you meet" in t for t in _texts(h, "U1", mark)), "Ana's pause ended mid-round: asked"
    assert not any("Did you meet" in t for t in _texts(h, ana_partner, mark)), "still away: not asked"
    await _run_until(h, datetime(2026, 3, 9, 12, 0, tzinfo=UTC))  # next round: the partner is still away
    intros = [s for s in h.port.sent[mark:] if "matched in" in s.message.plain_text()]
    assert intros and all(ana_partner not in s.audience for s in intros)
    await _run_until(h, datetime(2026, 3, 14, 1, 0, tzinfo=UTC))
    assert sum("Welcome back" in t for t in _texts(h, ana_partner)) == 1
