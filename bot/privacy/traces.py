"""What identifies one person in the database: their user row, platform id, name, e-mail and free text.

The erasure and the ``my data`` export both start from these traces, and the generic scan
(:mod:`bot.privacy.scan`) looks for them in every column of every table, so tables added later are covered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.content import QuestionKind
from bot.engagement.surveys import definition_for
from storage.tables import Agreement, Goal, Recap, SurveyAnswer, SurveyInstance, User

PLACEHOLDER_NAME = "Former participant"
PLACEHOLDER_TEXT = "a former participant"
ERASED_TEXT = "(erased)"
FORGOTTEN_PREFIX = "forgotten-"
MIN_FREE_TEXT = 6  # shorter free text ("ok") is erased where it was written, not hunted for elsewhere


def placeholder_id(user_id: int) -> str:
    """The platform id a forgotten person's row keeps: unique, and no longer anyone's."""
    return f"{FORGOTTEN_PREFIX}{user_id}"


def is_forgotten(user: User) -> bool:
    return user.platform_user_id.startswith(FORGOTTEN_PREFIX)


def _word(needle: str) -> re.Pattern[str]:
    """A name or id as a whole word, so 'Al' never eats 'Always'."""
    return re.compile(rf"(?<![^\W_]){re.escape(needle)}(?![^\W_])")


@dataclass(frozen=True)
class Traces:
    user_id: int
    workspace_id: int
    platform_user_id: str
    name: str
    email: str | None
    free_texts: tuple[str, ...] = field(default=())

    def identifiers(self) -> tuple[str, ...]:
        """Strings that name the person anywhere: platform id, e-mail, display name."""
        found = [self.platform_user_id, self.email or "", self.name]
        return tuple(s for s in found if s and s.strip())

    def needles(self) -> tuple[str, ...]:
        """Everything the scan looks for: identifiers and the person's longer free text."""
        return self.identifiers() + tuple(t for t in self.free_texts if len(t.strip()) >= MIN_FREE_TEXT)

    def substitutions(self) -> list[tuple[re.Pattern[str], str]]:
        """How each trace is replaced where it appears inside someone else's row (longest first)."""
        subs: list[tuple[re.Pattern[str], str]] = [
            (re.compile(re.escape(t)), ERASED_TEXT)
            for t in sorted(set(self.free_texts), key=len, reverse=True)
            if len(t.strip()) >= MIN_FREE_TEXT
        ]
        if self.email:
            subs.append((re.compile(re.escape(self.email), re.IGNORECASE), ""))
        subs.append((_word(self.platform_user_id), placeholder_id(self.user_id)))
        if self.name.strip():
            subs.append((_word(self.name), PLACEHOLDER_TEXT))
        return subs

    def matches(self, text: str) -> bool:
        return any(pattern.search(text) for pattern, _ in self.substitutions())


async def free_text_answers(session: AsyncSession, user_id: int) -> list[SurveyAnswer]:
    """The person's named answers to free-text questions (ratings and choices are not free text)."""
    rows = (
        await session.exec(
            select(SurveyAnswer, SurveyInstance)
            .join(SurveyInstance, col(SurveyInstance.id) == SurveyAnswer.instance_id)
            .where(SurveyAnswer.user_id == user_id)
        )
    ).all()
    found: list[SurveyAnswer] = []
    for answer, instance in rows:
        survey = await definition_for(session, instance)
        question = next((q for q in survey.questions if q.id == answer.question_id), None)
        if question is None or question.kind is QuestionKind.TEXT:  # an unknown question: treat as free text
            found.append(answer)
    return found


async def traces_of(session: AsyncSession, user: User) -> Traces:
    """The person's traces, free text included (named survey comments, goals, recaps, agreement notes)."""
    uid = user.id or 0
    texts = [a.value for a in await free_text_answers(session, uid)]
    texts += [g.text for g in (await session.exec(select(Goal).where(Goal.owner_user_id == uid))).all()]
    for recap in (await session.exec(select(Recap).where(Recap.author_user_id == uid))).all():
        texts.append(recap.text)
        texts.extend(recap.action_items)
    agreements = (await session.exec(select(Agreement).where(Agreement.proposed_by_user_id == uid))).all()
    texts += [a.avoid for a in agreements if a.avoid]
    return Traces(
        user_id=uid,
        workspace_id=user.workspace_id,
        platform_user_id=user.platform_user_id,
        name=user.display_name,
        email=user.email,
        free_texts=tuple(t for t in texts if t and t.strip()),
    )
