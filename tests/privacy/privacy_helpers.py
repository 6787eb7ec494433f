"""A program with two people who have said and written things, and an independent scan of every table.

The scan here deliberately shares no code with bot/privacy: it reads every row of every table in
``SQLModel.metadata`` and looks for the person's traces as plain text, so a table added later is covered.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import SQLModel, select

import storage.tables  # noqa: F401  (every table registered on the metadata)
from bot.delivery.outbox import Outgoing, enqueue, to_group, to_user
from bot.kernel.events import Actor, OpenForm
from bot.kernel.messages import text_message
from storage.tables import Agreement, Avoidance, Goal, Match, MatchMember, Recap, User
from tests.core.harness import Harness
from tests.surveys.surveys_helpers import PROFILE, answer, match_now, survey_to

ZOE_TEXTS = (
    "Loved our talk about sourdough starters",
    "Lead the quarterly design review",
    "Zoe will send the slide deck checklist",
    "Rehearse the keynote twice",
    "No calls before nine please",
    "Amateur cellist who bakes rye bread",  # about me (profile)
    "moving to Lisbon with two cats",  # ask me about (profile)
)


@dataclass(frozen=True)
class Person:
    actor: Actor
    email: str
    texts: tuple[str, ...] = ()

    @property
    def traces(self) -> tuple[str, ...]:
        return (self.actor.user_id, self.actor.name or "", self.email, *self.texts)


ZOE = Person(
    Actor("console", "T-TEST", "UZQ77", "Zoë Quartermain", "zoe.q@example.org", "Europe/Berlin"),
    "zoe.q@example.org",
    ZOE_TEXTS,
)
BEN = Person(
    Actor("console", "T-TEST", "UBO55", "Benedikt Oyelaran", "ben.o@example.org", "Europe/Berlin"), "ben.o@example.org"
)
ADMIN = Actor("console", "T-TEST", "UADMIN", "Morgan", timezone="Europe/Berlin", is_platform_admin=True)


async def user_row(h: Harness, platform_user_id: str) -> User:
    async with h.core.db.session() as s:
        return (await s.exec(select(User).where(User.platform_user_id == platform_user_id))).one()


async def lived_in(h: Harness) -> int:
    """Zoë and Ben matched, met, answered with a comment, set goals and a recap; returns the match id."""
    await h.create_program(ADMIN)
    for person in (ZOE, BEN):
        await h.enrol(person.actor, profile=PROFILE)
    await match_now(h, ADMIN)
    h.clock.advance(timedelta(days=4))
    await h.core.tick()
    for person in (ZOE, BEN):
        await answer(h, person.actor, survey_to(h, person.actor.user_id, "Did you meet?"), "|yes")
    survey = survey_to(h, ZOE.actor.user_id, "Did you meet?")
    form = await h.click(ZOE.actor, survey, "survey:comment")
    assert isinstance(form, OpenForm)
    await h.submit(ZOE.actor, form, {"answer": ZOE_TEXTS[0]})
    async with h.core.db.transaction() as s:  # her own words in the profile, as the form would store them
        row = (await s.exec(select(User).where(User.platform_user_id == "UZQ77"))).one()
        row.about_me, row.ask_me_about = ZOE_TEXTS[5], ZOE_TEXTS[6]
    zoe, ben, admin = [await user_row(h, p) for p in ("UZQ77", "UBO55", "UADMIN")]
    zoe_id, ben_id, admin_id = zoe.id or 0, ben.id or 0, admin.id or 0
    async with h.core.db.transaction() as s:
        match = (await s.exec(select(Match).join(MatchMember).where(MatchMember.user_id == zoe_id))).one()
        now = h.clock.now()
        s.add(Goal(match_id=match.id or 0, owner_user_id=zoe_id, position=1, text=ZOE_TEXTS[1], created_at=now))
        s.add(
            Goal(
                match_id=match.id or 0,
                owner_user_id=ben_id,
                position=2,
                text="Ship the onboarding guide",
                created_at=now,
            )
        )
        s.add(
            Recap(
                match_id=match.id or 0,
                author_user_id=zoe_id,
                text=ZOE_TEXTS[2],
                action_items=[ZOE_TEXTS[3]],
                created_at=now,
            )
        )
        s.add(
            Agreement(
                match_id=match.id or 0,
                cadence="weekly",
                medium="video",
                avoid=ZOE_TEXTS[4],
                proposed_by_user_id=zoe_id,
                proposed_at=now,
            )
        )
        s.add(Avoidance(user_id=zoe_id, avoided_user_id=admin_id, created_at=now))
        s.add(Avoidance(user_id=ben_id, avoided_user_id=zoe_id, created_at=now))  # Ben's secret, not Zoë's to see
        later = now + timedelta(days=3)
        await enqueue(
            s,
            zoe.workspace_id,
            [
                Outgoing("test:zoe:later", "test", to_user("UZQ77"), text_message("For Zoë later"), not_before=later),
                Outgoing(
                    "test:pair:later", "test", to_group(["UZQ77", "UBO55"]), text_message("For both"), not_before=later
                ),
            ],
            now,
        )
        return match.id or 0


def _texts(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


async def scan(h: Harness, person: Person, user_id: int, *, by_key: bool = True) -> dict[tuple[str, Any], set[str]]:
    """Every (table, id) holding one of the person's traces (or pointing at their user row), and which."""
    found: dict[tuple[str, Any], set[str]] = {}
    async with h.core.db.session() as s:
        for table in SQLModel.metadata.sorted_tables:
            for row in (await (await s.connection()).execute(sa_select(table))).all():
                data = dict(row._mapping)
                hits = {t for t in person.traces if t and any(t in _texts(v) for v in data.values() if v is not None)}
                if by_key:
                    keyed = [
                        c.name for c in table.columns for fk in c.foreign_keys if fk.column.table.name == "tandem_user"
                    ]
                    keyed = [k for k in keyed if (table.name, k) != ("avoidance", "avoided_user_id")]
                    if any(data.get(k) == user_id for k in keyed) or (
                        table.name == "tandem_user" and data["id"] == user_id
                    ):
                        hits.add("<user row>")
                if hits:
                    found[(table.name, data.get("id"))] = hits
    return found


def file_of(h: Harness, platform_user_id: str) -> dict[str, Any]:
    sent = next(s for s in reversed(h.to(platform_user_id)) if s.message.files)
    return json.loads(base64.b64decode(sent.message.files[0].content_b64))
