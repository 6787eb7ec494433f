"""A seeded program for admin tests: people through the real flows, rounds and answers written directly."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlmodel import select

from bot.kernel.events import MemberJoinedEvent, Reply
from storage.enums import MatchStatus
from storage.tables import (
    Match,
    MatchMember,
    Program,
    Round,
    SurveyAnswer,
    SurveyInstance,
    SurveyRecipient,
    User,
    Waitlist,
)
from tests.core.harness import Harness

PROFILE = {
    "skills_offered": "Python, SQL",
    "skills_wanted": "negotiation",
    "interests": "climbing, chess",
    "department": "Engineering",
    "timezone": "Europe/Berlin",
    "work_start": "09:00",
    "work_end": "17:00",
}
NAMES = ["Ana", "Ben", "Chen", "Dara", "Elif", "Femi"]


def text_of(response) -> str:  # noqa: ANN001
    assert isinstance(response, Reply), response
    return response.message.plain_text()


async def program_with_people(h: Harness, channel: str = "coffee", **values: str):  # noqa: ANN201
    admin = h.actor("UADMIN", "Morgan", admin=True)
    await h.create_program(admin, channel, **values)
    people = [h.actor(f"U{i + 1}", name) for i, name in enumerate(NAMES)]
    for index, person in enumerate(people):
        await h.enrol(person, channel, profile=PROFILE | {"department": f"Dept {index % 3}"})
    return admin, people


async def users_by_id(session) -> dict[str, User]:  # noqa: ANN001
    return {u.platform_user_id: u for u in (await session.exec(select(User))).all()}


class Seeder:
    """Writes rounds, matches and survey answers the way the core stores them."""

    def __init__(self, session, program: Program, users: dict[str, User], now) -> None:  # noqa: ANN001
        self.s, self.program, self.users, self.now = session, program, users, now
        self.count = 0

    async def round(self, number: int) -> Round:
        rnd = Round(program_id=self.program.id, number=number, seed=number, status="matched", matched_at=self.now)
        self.s.add(rnd)
        await self.s.flush()
        return rnd

    async def match(self, rnd: Round, members: list[str], met: bool = False, created_days_ago: int = 0) -> Match:
        match = Match(
            round_id=rnd.id,
            program_id=self.program.id,
            created_at=self.now - timedelta(days=created_days_ago),
            status=MatchStatus.MET.value if met else MatchStatus.INTRODUCED.value,
            met_at=self.now if met else None,
        )
        self.s.add(match)
        await self.s.flush()
        for uid in members:
            self.s.add(MatchMember(match_id=match.id, user_id=self.users[uid].id, role="peer"))
        await self.s.flush()
        return match

    async def survey(
        self, match: Match, definition: str, answers: dict[str, str | None], question: str, anonymous: bool = False
    ) -> SurveyInstance:
        """``answers``: platform user id → value (None: asked but did not answer)."""
        self.count += 1
        inst = SurveyInstance(
            key=f"seed:{uuid.uuid4().hex}",
            program_id=self.program.id,
            round_id=match.round_id,
            match_id=match.id,
            definition_id=definition,
            anonymous=anonymous,
            opened_at=self.now,
        )
        self.s.add(inst)
        await self.s.flush()
        for uid, value in answers.items():
            user = self.users[uid]
            self.s.add(SurveyRecipient(instance_id=inst.id, user_id=user.id, answered=value is not None))
            if value is not None:
                self.s.add(
                    SurveyAnswer(
                        instance_id=inst.id,
                        question_id=question,
                        value=value,
                        answered_at=self.now,
                        respondent_key=f"anon:{self.count}:{uid}" if anonymous else f"user:{user.id}",
                        user_id=None if anonymous else user.id,
                    )
                )
        await self.s.flush()
        return inst

    async def waitlist(self, rnd: Round, uid: str) -> None:
        self.s.add(Waitlist(round_id=rnd.id, user_id=self.users[uid].id, reason="odd number"))
        await self.s.flush()


async def seed_stats(h: Harness) -> None:
    """Round 1: 3 pairs, met 4 of 5 'did you meet?' answers, pulse 4,5,3. Round 2: too few answers."""
    async with h.core.db.transaction() as s:
        program = (await s.exec(select(Program))).first()
        sd = Seeder(s, program, await users_by_id(s), h.clock.now())
        r1 = await sd.round(1)
        m1 = await sd.match(r1, ["U1", "U2"], met=True)
        m2 = await sd.match(r1, ["U3", "U4"], met=True)
        m3 = await sd.match(r1, ["U5", "U6"])
        await sd.survey(m1, "did_you_meet", {"U1": "yes", "U2": "yes"}, "met")
        await sd.survey(m2, "did_you_meet", {"U3": "yes", "U4": "yes"}, "met")
        await sd.survey(m3, "did_you_meet", {"U5": "not_yet", "U6": None}, "met")
        await sd.survey(m1, "pulse", {"U1": "4", "U2": "5"}, "match_rating")
        await sd.survey(m2, "pulse", {"U3": "3", "U4": None}, "match_rating")
        await sd.survey(m3, "pulse", {"U5": None, "U6": None}, "match_rating")
        r2 = await sd.round(2)
        m4 = await sd.match(r2, ["U1", "U3"], met=True)
        m5 = await sd.match(r2, ["U2", "U4"])
        await sd.survey(m4, "did_you_meet", {"U1": "yes", "U3": None}, "met")
        await sd.survey(m5, "did_you_meet", {"U2": "cant_meet", "U4": None}, "met")
        await sd.survey(m4, "pulse", {"U1": "2", "U3": None}, "match_rating")
        await sd.waitlist(r2, "U5")


async def invite_only(h: Harness, user_id: str, name: str, channel: str = "coffee") -> None:
    await h.core.handle(MemberJoinedEvent(actor=h.actor(user_id, name), channel_id=channel))
