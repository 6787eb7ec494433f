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
    # 6 enrolled: Femi (U6) paused, so 5 active and 1 paused; Gus was invited and never joined; Elif (U5) is on
    # the latest round's waitlist and still in the program, so 1 waitlisted
    assert "Participants: 5 active, 1 paused, 1 waitlisted (1 invited, 0 left)" in text
    # 3 matches in round 1 and 2 in round 2; met = matches where someone confirmed they met: m1, m2, m4
    assert "Rounds: 2 · matches: 5 · met: 3" in text
    # meeting rate = met matches / matches asked "did you meet?": all five were asked, 3 met → 60%;
    # response rate: 11 of the 18 people asked answered (61%); pulse 4, 5, 3, 2 → 3.5
    assert "Meeting rate (met of those asked): 60% · survey response rate: 61% · average pulse: 3.5 / 5" in text
    # round 1: m1 and m2 met, m3 did not, all three asked → 67%; 8 of 12 asked answered; pulse 4, 5, 3 → 4.0
    assert "Round 1: 3 matches, 2 met, meeting rate 67%, responses 67%, pulse 4.0 / 5" in text
    # round 2: two asked matches and one pulse answer are too few to report without pointing at people
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
    assert chart.series.meeting_rate == (2 / 3, None)  # None: not enough answers, drawn as a gap
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


async def test_met_never_exceeds_what_the_meeting_rate_says_and_leavers_do_not_wait(db, start_time) -> None:  # noqa: ANN001
    """A match that met without being asked (a "We met" click) counts as asked; a leaver isn't waiting."""
    from tests.admin.admin_seed import Seeder, users_by_id

    h = Harness.create(db, start_time)
    admin, people = await program_with_people(h)
    async with db.transaction() as s:
        program = (await s.exec(select(Program))).one()
        sd = Seeder(s, program, await users_by_id(s), h.clock.now())
        rnd = await sd.round(1)
        await sd.match(rnd, ["U1", "U2"], met=True)  # confirmed, never asked
        await sd.match(rnd, ["U3", "U4"], met=True)
        not_yet = await sd.match(rnd, ["U5", "U6"])
        await sd.survey(not_yet, "did_you_meet", {"U5": "not_yet", "U6": None}, "met")
        await sd.match(rnd, ["U1", "U3"])  # not asked yet: too early to say it didn't meet
        await sd.waitlist(rnd, "U2")
    await h.command(people[1], "leave")
    async with db.session() as s:
        stats = await program_stats(s, program, h.clock.now())
    overall = stats.overall()
    assert (overall.matches, overall.met, overall.asked_matches) == (4, 2, 3)
    assert overall.meeting_rate == 2 / 3
    assert stats.waitlisted == 0, "Ben left: nobody is waiting now"
