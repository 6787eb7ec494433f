"""Anonymous surveys: answers carry no person, can't be traced back after close, and small reports hide numbers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot.admin.survey_reports import NOT_ENOUGH, report_lines, survey_report
from bot.engagement.surveys import OPEN_FOR, SurveyError, close_and_remind, open_survey, respondent_key
from storage.tables import Program, SurveyAnswer, SurveyInstance, User
from tests.core.harness import Harness
from tests.surveys.surveys_helpers import answer, program_with, survey_to, text_of

MIDPOINT = "Halfway check-in"


async def _open(h: Harness, definition_id: str, people: list) -> None:  # noqa: ANN001
    async with h.core.db.transaction() as s:
        program = (await s.exec(select(Program))).one()
        users = list(
            (
                await s.exec(
                    select(User).where(User.platform_user_id.in_([p.user_id for p in people])).order_by(User.id)
                )
            ).all()
        )
        await open_survey(h.core, s, program, definition_id, f"test:{definition_id}", users)
    await h.core.dispatch()


async def _report(h: Harness, definition_id: str) -> list[str]:
    async with h.core.db.session() as s:
        program = (await s.exec(select(Program))).one()
        return report_lines(await survey_report(s, program, definition_id))


async def test_anonymous_answers_cannot_be_traced_back(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    _, people = await program_with(h, 3)
    await _open(h, "midpoint", people)
    for person, rating in zip(people, ("4", "5", "2"), strict=True):
        sent = survey_to(h, person.user_id, MIDPOINT)
        assert "Anonymous" in sent.message.plain_text()
        await answer(h, person, sent, f"|usefulness|{rating}")
        await answer(h, person, sent, "|weekly")
    changed = await answer(h, people[0], survey_to(h, "U1", MIDPOINT), "|usefulness|3")  # changed, same row
    assert "✓ 3" in text_of(changed)
    async with db.session() as s:
        rows = (await s.exec(select(SurveyAnswer))).all()
        users = (await s.exec(select(User))).all()
        assert len(rows) == 6 and all(r.user_id is None for r in rows)
        assert sorted(r.value for r in rows if r.question_id == "usefulness") == ["2", "3", "5"]
        assert not any(
            r.respondent_key.startswith("user:") or any(str(u.id) == r.respondent_key.split(":")[-1] for u in users)
            for r in rows
        )
        assert all(r.answered_at is not None and r.answered_at.hour == 0 and r.answered_at.minute == 0 for r in rows)
    h.clock.advance(OPEN_FOR + timedelta(minutes=1))
    await close_and_remind(h.core)
    async with db.session() as s:
        instance = (await s.exec(select(SurveyInstance))).one()
        assert instance.closed_at is not None and instance.salt is None
        for user in (await s.exec(select(User))).all():
            with pytest.raises(SurveyError):
                respondent_key(instance, user.id or 0)  # without the salt nobody can recompute a key


async def test_reports_under_three_answers_hide_numbers(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    _, people = await program_with(h, 3)
    await _open(h, "midpoint", people)
    for person in people[:2]:
        await answer(h, person, survey_to(h, person.user_id, MIDPOINT), "|usefulness|5")
    lines = await _report(h, "midpoint")
    body = "\n".join(lines[1:])
    assert body.count(NOT_ENOUGH) == 3 and "average" not in body and "5" not in body
    await answer(h, people[2], survey_to(h, "U3", MIDPOINT), "|usefulness|2")
    body = "\n".join((await _report(h, "midpoint"))[1:])
    assert "average 4.0 from 3 answers" in body
    assert body.count(NOT_ENOUGH) == 2, "the other questions still have too few answers"


async def test_anonymous_comments_have_no_names_and_named_ones_do(db, start_time) -> None:  # noqa: ANN001
    from bot.kernel.events import FormSubmittedEvent

    h = Harness.create(db, start_time)
    _, people = await program_with(h, 3)
    await _open(h, "midpoint", people)
    await _open(h, "pulse", people)
    async with db.session() as s:
        instances = {i.definition_id: i.id for i in (await s.exec(select(SurveyInstance))).all()}
    for person, words in zip(people, ("more structure", "all good", "shorter chats"), strict=True):
        for survey, question in (("midpoint", "improve"), ("pulse", "comment")):
            await h.core.handle(
                FormSubmittedEvent(
                    actor=person,
                    form_id="survey_text",
                    values={"answer": words},
                    state=f"{instances[survey]}|{question}",
                )
            )
    anonymous = "\n".join(await _report(h, "midpoint"))
    assert "“all good”" in anonymous and "Person" not in anonymous
    assert anonymous.index("all good") < anonymous.index("more structure") < anonymous.index("shorter chats")
    named = "\n".join(await _report(h, "pulse"))
    assert "Person1: more structure" in named


async def test_survey_results_command_for_admins(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin, people = await program_with(h, 3)
    await _open(h, "midpoint", people)
    await answer(h, people[0], survey_to(h, "U1", MIDPOINT), "|usefulness|5")
    refused = await h.command(people[0], "survey results midpoint", channel="coffee")
    assert "only program admins" in text_of(refused)
    text = text_of(await h.command(admin, "survey results coffee midpoint"))
    assert "Halfway check-in" in text and "anonymous (totals" in text and text.count(NOT_ENOUGH) == 3
    overview = text_of(await h.command(admin, "survey results", channel="coffee"))
    assert "Halfway check-in" in overview
