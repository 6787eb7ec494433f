"""Admins' own prompts, icebreakers and survey questions: admin-only, audited, mixed into what people get."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.engagement.surveys import open_survey
from bot.kernel.events import ChannelRef
from bot.schedule.steps import send_prompts
from storage.tables import AuditEntry, CustomContent, Match, Program, SurveyAnswer, User
from tests.core.harness import Harness
from tests.surveys.surveys_helpers import answer, match_now, program_with, survey_to, text_of

ADD = (
    "icebreaker add What's the best book you read this year?",
    "prompt add week 2 What would you like to learn from each other?",
    "question add rating How clear are your goals?",
    "question add Anything we should change?",
)


async def test_non_admins_are_refused_and_nothing_changes(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin, _ = await program_with(h, 1)
    await h.command(admin, "icebreaker add An admin's question?", channel="coffee")
    async with db.session() as s:
        before = (await s.exec(select(CustomContent))).all()
    sam = h.actor("U1", "Person1")
    for command in (*ADD, "content list", f"content remove {before[0].id}", "survey results"):
        reply = await h.command(sam, command, channel="coffee")
        assert "only program admins" in text_of(reply), command
    async with db.session() as s:
        assert (await s.exec(select(CustomContent))).all() == before
        assert len((await s.exec(select(AuditEntry).where(AuditEntry.action.like("content%")))).all()) == 1


async def test_admin_adds_lists_and_removes_content_with_audit(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin, _ = await program_with(h, 1)
    for command in ADD:
        assert "Added" in text_of(await h.command(admin, command, channel="coffee")), command
    assert "Added" in text_of(await h.command(admin, "icebreaker add #coffee [career] First job you loved?"))
    bad = await h.command(admin, "icebreaker add [astrology] Your sign?", channel="coffee")
    assert "isn't a category" in text_of(bad)
    assert "Say which week" in text_of(await h.command(admin, "prompt add week two Hello?", channel="coffee"))
    listing = text_of(await h.command(admin, "content list"))
    assert "week 2: What would you like to learn" in listing
    assert "rating question in pulse: How clear are your goals?" in listing
    assert "icebreaker [career]: First job you loved?" in listing
    async with db.session() as s:
        rows = (await s.exec(select(CustomContent).order_by(CustomContent.id))).all()
        program = (await s.exec(select(Program))).one()
        assert [r.kind for r in rows] == ["icebreaker", "prompt", "question", "question", "icebreaker"]
        assert all(r.program_id == program.id for r in rows)
    removed = await h.command(admin, f"content remove {rows[0].id}")
    assert "Removed" in text_of(removed)
    assert "best book" not in text_of(await h.command(admin, "content list"))
    assert "can't find" in text_of(await h.command(admin, "content remove 999"))
    async with db.session() as s:
        actions = [a.action for a in (await s.exec(select(AuditEntry).order_by(AuditEntry.id))).all()]
        assert actions.count("content_add") == 5 and actions.count("content_remove") == 1


async def test_custom_questions_join_the_pulse_and_prompts_join_the_week(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin, people = await program_with(h, 2, kind="mentoring", mentors=1)
    for command in (*ADD[1:], "prompt add week 1 What brought you to this program?"):
        await h.command(admin, command, channel="coffee")
    await match_now(h, admin)
    intro = next(s for s in h.to("U1") if "matched in" in s.message.plain_text())
    assert "From your program team: **What brought you to this program?**" in intro.message.plain_text()
    h.clock.advance(timedelta(days=7))
    async with db.transaction() as s:
        program = (await s.exec(select(Program))).one()
        await send_prompts(h.core, s, program, h.clock.now())
        users = list((await s.exec(select(User).where(User.platform_user_id.in_(["U1", "U2"])))).all())
        match = (await s.exec(select(Match))).one()
        await open_survey(h.core, s, program, "pulse", "test:pulse", users, match=match)
    await h.core.dispatch()
    prompt = next(s for s in h.to("U1") if "Week 2" in s.message.plain_text())
    assert "From your program team: **What would you like to learn from each other?**" in prompt.message.plain_text()
    pulse = survey_to(h, "U1", "How's it going?")
    text = pulse.message.plain_text()
    assert "How clear are your goals?" in text and "Anything we should change?" in text
    async with db.session() as s:
        rating_id = (await s.exec(select(CustomContent).where(CustomContent.kind == "question"))).first().id
    reply = await answer(h, people[0], pulse, f"|custom-{rating_id}|4")
    assert "✓ 4" in text_of(reply)
    async with db.session() as s:
        assert [(a.question_id, a.value) for a in (await s.exec(select(SurveyAnswer))).all()] == [
            (f"custom-{rating_id}", "4")
        ]


async def test_a_question_added_later_does_not_change_an_open_survey(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin, people = await program_with(h, 1)
    async with db.transaction() as s:
        program = (await s.exec(select(Program))).one()
        users = list((await s.exec(select(User).where(User.platform_user_id == "U1"))).all())
        await open_survey(h.core, s, program, "pulse", "test:pulse", users)
    await h.core.dispatch()
    h.clock.advance(timedelta(minutes=5))
    await h.command(admin, "question add rating Late question?", channel="coffee")
    reply = await answer(h, people[0], survey_to(h, "U1", "How's it going?"), "|match_rating|5")
    assert "Late question?" not in text_of(reply)


async def test_a_program_creator_manages_their_own_program_only(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    await program_with(h, 1)
    owner = h.actor("U1", "Person1")
    async with db.transaction() as s:
        program = (await s.exec(select(Program))).one()
        program.created_by_user_id = (await s.exec(select(User).where(User.platform_user_id == "U1"))).one().id
    outside = await h.command(owner, "icebreaker add Favourite snack?")  # would be for every program
    assert "only program admins" in text_of(outside) and "#channel" in text_of(outside)
    assert "Added" in text_of(
        await h.command(owner, "icebreaker add #coffee Favourite snack?", channels=(ChannelRef("coffee", "#coffee"),))
    )
    assert "Added" in text_of(await h.command(owner, "prompt add #coffee week 3 What changed since week 1?"))
    assert "week 3" in text_of(await h.command(owner, "content list"))


async def test_icebreaker_category_as_a_plain_word_and_no_twins(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin, _ = await program_with(h, 1)
    assert "Added" in text_of(await h.command(admin, "icebreaker add fun What's your hidden talent?", channel="coffee"))
    assert "Added" in text_of(await h.command(admin, "icebreaker add Fun fact about you?", channel="coffee"))
    twin = await h.command(admin, "icebreaker add career what's YOUR hidden talent", channel="coffee")
    assert "already in the rotation" in text_of(twin)
    async with db.session() as s:
        rows = (await s.exec(select(CustomContent).order_by(CustomContent.id))).all()
    assert [(r.payload["category"], r.payload["text"]) for r in rows] == [
        ("fun", "What's your hidden talent?"),
        ("fun", "Fun fact about you?"),
    ]
    async with db.transaction() as s:  # a twin stored before this check still shows once
        program = (await s.exec(select(Program))).one()
        s.add(
            CustomContent(workspace_id=program.workspace_id, kind="icebreaker", payload={"text": "FUN FACT about you"})
        )
    from bot.engagement.icebreakers import bank

    async with db.session() as s:
        texts = [i.text.casefold().rstrip("?") for i in await bank(s, program)]
    assert texts.count("fun fact about you") == 1
