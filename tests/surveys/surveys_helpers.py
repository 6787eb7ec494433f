"""Small builders shared by the survey tests: a program with people in it, matched, and survey clicks."""

from __future__ import annotations

from sqlmodel import select

from adapters.console.port import Sent
from bot.kernel.events import Actor, Reply, Response
from bot.kernel.messages import Actions, Button
from storage.tables import Membership, User
from tests.core.harness import Harness

PROFILE = {
    "skills_offered": "Python",
    "skills_wanted": "SQL",
    "interests": "chess",
    "department": "Eng",
    "timezone": "Europe/Berlin",
    "work_start": "09:00",
    "work_end": "17:00",
}


def text_of(response: Response) -> str:
    assert isinstance(response, Reply), response
    return response.message.plain_text()


async def program_with(h: Harness, n: int = 2, kind: str = "peer", mentors: int = 0) -> tuple[Actor, list[Actor]]:
    """An admin's program with ``n`` enrolled people; the first ``mentors`` of them mentor."""
    admin = h.actor("UADMIN", "Morgan", admin=True)
    await h.create_program(admin, kind=kind)
    people = [h.actor(f"U{i}", f"Person{i}") for i in range(1, n + 1)]
    for person in people:
        await h.enrol(person, profile=PROFILE)
    if mentors:
        async with h.core.db.transaction() as s:
            for person in people[:mentors]:
                user = (await s.exec(select(User).where(User.platform_user_id == person.user_id))).one()
                member = (await s.exec(select(Membership).where(Membership.user_id == user.id))).one()
                member.role = "mentor"
    return admin, people


async def match_now(h: Harness, admin: Actor) -> None:
    await h.command(admin, "match now")
    await h.core.dispatch()


def button_value(sent: Sent, suffix: str) -> str:
    return next(
        e.value
        for b in sent.message.blocks
        if isinstance(b, Actions)
        for e in b.elements
        if isinstance(e, Button) and e.value.endswith(suffix)
    )


def survey_to(h: Harness, user_id: str, title: str) -> Sent:
    return next(s for s in reversed(h.to(user_id)) if title in s.message.plain_text())


async def answer(h: Harness, actor: Actor, sent: Sent, suffix: str, event_id: str | None = None) -> Response:
    return await h.click(actor, sent, "survey:answer", value=button_value(sent, suffix), event_id=event_id)


async def user_id(h: Harness, platform_user_id: str) -> int:
    async with h.core.db.session() as s:
        user = (await s.exec(select(User).where(User.platform_user_id == platform_user_id))).one()
        return user.id or 0
