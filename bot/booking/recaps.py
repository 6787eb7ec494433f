"""Private recaps after a chat: a note and action items, seen only by the pair, quoted before their next chat."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.chat import visibility
from bot.kernel.messages import Form, Section, Text, TextInput
from storage.tables import Recap

FORM = "chat:recap"
MAX_TEXT = 2000
MAX_ITEMS = 10
MAX_ITEM = 200


def recap_form(state: str, text: str = "", items: list[str] | None = None) -> Form:
    """The recap form; ``state`` names the meeting it is about (handed back on submit)."""
    return Form(
        form_id=FORM,
        title="Recap of your chat",
        submit_label="Save recap",
        intro=visibility.RECAP,
        state=state,
        fields=(
            TextInput(
                field_id="text",
                label="Notes (optional)",
                placeholder="What you talked about, what you'd like to remember",
                initial=text,
                multiline=True,
                optional=True,
                max_length=MAX_TEXT,
            ),
            TextInput(
                field_id="items",
                label=f"Action items, one per line (up to {MAX_ITEMS})",
                placeholder="Send Ben the design review checklist",
                initial="\n".join(items or []),
                multiline=True,
                optional=True,
                max_length=MAX_ITEMS * (MAX_ITEM + 1),
            ),
        ),
    )


def _value(values: dict, field: str) -> str:
    raw = values.get(field)
    if isinstance(raw, list):
        raw = raw[0] if raw else ""
    return str(raw or "").replace("\r\n", "\n").strip()


def parse_recap(values: dict) -> tuple[str, list[str], dict[str, str]]:
    """(note, action items, errors by field): errors are shown on the form and nothing is saved."""
    text = _value(values, "text")
    items = [line.strip().lstrip("•-* ").strip() for line in _value(values, "items").split("\n")]
    items = [item for item in items if item]
    errors: dict[str, str] = {}
    if len(text) > MAX_TEXT:
        errors["text"] = f"Keep the note under {MAX_TEXT} characters (it has {len(text)})."
    if len(items) > MAX_ITEMS:
        errors["items"] = f"{MAX_ITEMS} action items at most (you wrote {len(items)}): keep the ones that matter."
    long = [i for i, item in enumerate(items, 1) if len(item) > MAX_ITEM]
    if long and "items" not in errors:
        errors["items"] = f"Action item {long[0]} is too long: {MAX_ITEM} characters at most."
    if not text and not items and not errors:
        errors["text"] = "Write a note or at least one action item."
    return text, items, errors


async def save_recap(
    session: AsyncSession, match_id: int, meeting_id: int, author_id: int, text: str, items: list[str], now: datetime
) -> Recap:
    """One recap per person and chat: writing it again replaces it."""
    recap = (
        await session.exec(
            select(Recap).where(
                Recap.match_id == match_id, Recap.meeting_id == meeting_id, Recap.author_user_id == author_id
            )
        )
    ).first()
    if recap is None:
        recap = Recap(match_id=match_id, meeting_id=meeting_id, author_user_id=author_id)
        session.add(recap)
    recap.text = text
    recap.action_items = items
    recap.created_at = now
    await session.flush()
    return recap


async def my_recap(session: AsyncSession, meeting_id: int, author_id: int | None) -> Recap | None:
    return (
        await session.exec(select(Recap).where(Recap.meeting_id == meeting_id, Recap.author_user_id == author_id))
    ).first()


async def latest_action_items(session: AsyncSession, match_id: int | None) -> list[str]:
    """The action items written after the pair's latest recapped chat (by anyone in the pair, in order)."""
    recaps = (
        await session.exec(
            select(Recap)
            .where(Recap.match_id == match_id)
            .order_by(col(Recap.created_at).desc(), col(Recap.id).desc())
            .limit(20)
        )
    ).all()
    if not recaps:
        return []
    latest = recaps[0].meeting_id
    items: list[str] = []
    for recap in reversed([r for r in recaps if r.meeting_id == latest]):
        items.extend(item for item in recap.action_items if item not in items)
    return items


def action_items_block(items: list[str]) -> Section | None:
    if not items:
        return None
    lines = "\n".join(f"• {item}" for item in items)
    return Section(text=Text.of(f"📝 **From your last recap:**\n{lines}"))
