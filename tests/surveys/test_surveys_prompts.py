"""Weekly conversation prompts follow the track week by week and skip pairs with someone on a pause."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.content import MENTORING, load_library
from bot.schedule.steps import send_prompts
from storage.tables import Program
from tests.core.harness import Harness
from tests.surveys.surveys_helpers import match_now, program_with


async def _prompts(h: Harness) -> int:
    async with h.core.db.transaction() as s:
        program = (await s.exec(select(Program))).one()
        written = await send_prompts(h.core, s, program, h.clock.now())
    await h.core.dispatch()
    return written


def _weeks_seen(h: Harness) -> list[str]:
    return [s.message.blocks[0].text for s in h.to("U1") if s.message.summary.startswith("Week ")]


async def test_prompt_tracks_advance_week_by_week(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin, _ = await program_with(h, 2, kind="mentoring", mentors=1)
    await match_now(h, admin)
    assert await _prompts(h) == 0, "week 1 is the intro itself"
    track = load_library().track(MENTORING)
    for _ in range(3):
        h.clock.advance(timedelta(days=7))
        assert await _prompts(h) == 1
        assert await _prompts(h) == 0, "a step that runs again sends nothing twice"
    assert _weeks_seen(h) == [f"Week {w} · {track.prompt_for_week(w).title}" for w in (2, 3, 4)]


async def test_paused_people_get_no_prompts_and_resume_where_the_track_is(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin, (mentor, mentee) = await program_with(h, 2, kind="mentoring", mentors=1)
    await match_now(h, admin)
    await h.command(mentee, "pause 10d")
    h.clock.advance(timedelta(days=7))
    assert await _prompts(h) == 0
    h.clock.advance(timedelta(days=7))
    await h.core.tick()  # the pause is over (welcome back)
    assert await _prompts(h) == 1
    assert [w.split(" · ")[0] for w in _weeks_seen(h)] == ["Week 3"]


async def test_weekly_mentoring_pairs_get_prompts_through_the_schedule(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin, _ = await program_with(h, 2, kind="mentoring", mentors=1)
    await match_now(h, admin)
    for _ in range(15):  # a tick a day, as the scheduler would
        h.clock.advance(timedelta(days=1))
        await h.core.tick()
    assert [w.split(" · ")[0] for w in _weeks_seen(h)] == ["Week 2", "Week 3"]
