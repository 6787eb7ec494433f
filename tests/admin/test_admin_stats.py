"""`stats`: hand-computed figures on a seeded program, and the chart that goes with them."""

from __future__ import annotations

import base64

from sqlmodel import select

from bot.admin.charts import PNG_MAGIC, render_chart
from bot.admin.stats import program_stats
from bot.kernel.events import Reply
from storage.tables import Goal, Match, Program
from tests.admin.admin_seed import invite_only, program_with_people, seed_stats, text_of
from tests.core.harness import Harness


async def test_stats_match_hand_computed_figures_with_chart(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin, people = await program_with_people(h)
    await h.command(people[5], "pause 2w")
    await invite_only(h, "U7", "Gus")
    await seed_stats(h)

    reply = await h.command(admin, "stats")
    text = text_of(reply)
    assert "Participants: 5 active, 1 paused, 1 waitlisted (1 invited, 0 left)" in text
    assert "Rounds: 2 · matches: 5 · met: 3" in text
    # overall: 'did you meet?' 5 yes of 7 answers; 11 of 18 asked answered; pulse 4, 5, 3, 2
    assert "Meeting rate (did you meet? yes): 71% · survey response rate: 61% · average pulse: 3.5 / 5" in text
    assert "Round 1: 3 matches, 2 met, meeting rate 80%, responses 67%, pulse 4.0 / 5" in text
    # round 2 has two 'did you meet?' answers and one pulse: no numbers, however tempting
    assert (
        "Round 2: 2 matches, 1 met, meeting rate not enough answers, responses 50%, pulse not enough answers"
    ) in text
    assert "Goals: none set yet" in text

    assert isinstance(reply, Reply)
    (chart,) = reply.message.files
    assert chart.mime_type == "image/png" and chart.filename.endswith(".png")
    assert base64.b64decode(chart.content_b64).startswith(PNG_MAGIC)


async def test_chart_plots_exactly_the_reportable_series(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    await program_with_people(h)
    await seed_stats(h)
    async with db.session() as s:
        program = (await s.exec(select(Program))).one()
        stats = await program_stats(s, program, h.clock.now())
    chart = await render_chart(stats)
    assert chart.png.startswith(PNG_MAGIC) and len(chart.png) > 1000
    assert chart.series.rounds == (1, 2)
    assert chart.series.meeting_rate == (0.8, None)  # None: not enough answers, drawn as a gap
    assert chart.series.pulse == (4.0, None)
    assert chart.series.goals_done == (None, None)  # no pair set goals: no third series


async def test_goal_achievement_in_stats_and_as_the_charts_third_series(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin, _ = await program_with_people(h)
    await seed_stats(h)
    async with db.transaction() as s:
        matches = {m.id: m for m in (await s.exec(select(Match))).all()}
        first, second, _, fourth, _ = sorted(matches)
        goals = [(first, "done"), (first, "on_track"), (second, "done"), (fourth, "stuck"), (fourth, "not_started")]
        for position, (match_id, status) in enumerate(goals, 1):
            s.add(Goal(match_id=match_id, position=position, text=f"goal {position}", status=status))
    text = text_of(await h.command(admin, "stats"))
    assert "Goals: 2 of 5 done (40%) across 3 pairs" in text
    assert "pulse 4.0 / 5, goals 2 of 3 done" in text and "goals 0 of 2 done" in text
    async with db.session() as s:
        program = (await s.exec(select(Program))).one()
        stats = await program_stats(s, program, h.clock.now())
    chart = await render_chart(stats)
    assert chart.series.goals_done == (2 / 3, 0.0)
    assert chart.png.startswith(PNG_MAGIC) and len(chart.png) < 14_000  # small enough to travel inside a Teams card


async def test_chart_of_a_program_without_rounds_is_still_an_image(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin = h.actor("UADMIN", "Morgan", admin=True)
    await h.create_program(admin)
    reply = await h.command(admin, "stats coffee")
    assert "Rounds: 0" in text_of(reply)
    assert base64.b64decode(reply.message.files[0].content_b64).startswith(PNG_MAGIC)
