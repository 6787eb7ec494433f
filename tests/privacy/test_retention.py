"""Retention: the scheduler forgets people inactive past the limit (never someone still in a program), erases
free text past its own shorter limit, and an uninstall forgets the whole workspace when configured."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlmodel import select

from bot.kernel.runtime import PrivacyPolicy
from storage.tables import AuditEntry, SurveyAnswer, Workspace
from tests.core.harness import Harness
from tests.privacy.privacy_helpers import BEN, ZOE, ZOE_TEXTS, lived_in, scan, user_row

MONTH = timedelta(days=31)


async def test_people_inactive_past_the_limit_are_forgotten_members_are_not(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    await lived_in(h)
    await h.command(ZOE.actor, "leave")
    h.clock.advance(17 * MONTH)
    await h.core.tick()
    assert await scan(h, ZOE, -1, by_key=False) != {}  # not yet: 17 months
    h.clock.advance(2 * MONTH)
    await h.core.tick()
    assert await scan(h, ZOE, -1, by_key=False) == {}
    assert (await user_row(h, BEN.actor.user_id)).display_name == "Benedikt Oyelaran"  # still in the program
    async with db.session() as s:
        audit = (await s.exec(select(AuditEntry).where(AuditEntry.action == "forget"))).one()
        assert audit.details["reason"] == "retention" and audit.actor_user_id is None


async def test_free_text_can_have_a_shorter_limit(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    h.core.privacy = PrivacyPolicy(free_text_retention=timedelta(days=30))
    await lived_in(h)
    h.clock.advance(timedelta(days=29))
    await h.core.tick()
    async with db.session() as s:
        values = {a.question_id: a.value for a in (await s.exec(select(SurveyAnswer))).all()}
    assert values["note"] == ZOE_TEXTS[0]
    h.clock.advance(timedelta(days=2))
    await h.core.tick()
    async with db.session() as s:
        answers = (await s.exec(select(SurveyAnswer))).all()
    assert sorted(a.value for a in answers if a.question_id == "met") == ["yes", "yes"]  # totals stay
    assert all(ZOE_TEXTS[0] not in a.value for a in answers)
    assert (await user_row(h, ZOE.actor.user_id)).display_name == "Zoë Quartermain"  # the person stays


async def test_uninstall_forgets_the_workspace_only_when_configured(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    await lived_in(h)
    assert await h.core.uninstalled("console", "T-TEST") == 0
    assert await scan(h, ZOE, -1, by_key=False) != {}
    h.core.privacy = replace(h.core.privacy, forget_on_uninstall=True)
    assert await h.core.uninstalled("console", "T-TEST") == 3  # Zoë, Ben and the admin
    for person in (ZOE, BEN):
        assert await scan(h, person, -1, by_key=False) == {}
    async with db.session() as s:
        assert (await s.exec(select(Workspace))).one().uninstalled_at is not None
