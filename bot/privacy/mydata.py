"""``my data``: everything Tandem holds about a person, as a short summary and a JSON file.

The file is the generic scan's result (every row of every table that is about them, see
:mod:`bot.privacy.scan`), so nothing a later feature stores about people can be missing from it. Rows that
point at them but belong to someone else's privacy (another person's avoid list) are left out, and
credentials are withheld.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.kernel.messages import FileAttachment, Header, Message, Section, Text
from bot.privacy.scan import rows_about
from bot.privacy.traces import traces_of
from storage.tables import User

FILENAME = "tandem-my-data.json"
SECTIONS = (  # table → how the summary names it
    ("membership", "program memberships"),
    ("match_member", "matches"),
    ("meeting", "chats booked"),
    ("survey_answer", "survey answers"),
    ("goal", "goals"),
    ("recap", "recaps"),
    ("agreement", "agreements"),
    ("avoidance", "people on your avoid list"),
    ("audit_entry", "audit entries"),
    ("delivery", "messages"),
)


async def my_data(session: AsyncSession, user: User, now: datetime) -> dict[str, Any]:
    """The whole file's content: who, when, and every row about them by table."""
    traces = await traces_of(session, user)
    return {
        "about": "Everything Tandem holds about you, table by table. See docs/privacy.md for what each is for.",
        "generated_at": now.isoformat(),
        "person": {
            "platform_user_id": user.platform_user_id,
            "name": user.display_name,
            "email": user.email,
            "timezone": user.timezone,
            "working_hours": f"{user.work_start}-{user.work_end}",
        },
        "tables": await rows_about(session, traces),
    }


def _summary_lines(data: dict[str, Any]) -> list[str]:
    tables: dict[str, list[Any]] = data["tables"]
    person = data["person"]
    lines = [
        f"**Profile:** {person['name'] or '-'} · {person['email'] or 'no e-mail'} · {person['timezone']} · "
        f"working hours {person['working_hours']}"
    ]
    counts = [f"{len(tables[t])} {label}" for t, label in SECTIONS if tables.get(t)]
    lines.append("**Held about you:** " + (", ".join(counts) if counts else "nothing beyond your profile"))
    others = sorted(set(tables) - {t for t, _ in SECTIONS} - {"tandem_user"})
    if others:
        lines.append("Also: " + ", ".join(f"{len(tables[t])} in {t}" for t in others))
    return lines


def my_data_message(data: dict[str, Any]) -> Message:
    """The DM: a readable summary with the full JSON file attached."""
    raw = json.dumps(data, indent=2, ensure_ascii=False, default=str).encode("utf-8")
    body = "\n".join(_summary_lines(data)) + (
        "\nThe attached file has every row, table by table. `forget me` erases all of it."
    )
    return Message(
        summary="Your data in Tandem",
        blocks=(Header(text="🗂 Your data in Tandem"), Section(text=Text.of(body))),
        files=(
            FileAttachment(
                filename=FILENAME,
                mime_type="application/json",
                content_b64=base64.b64encode(raw).decode("ascii"),
                title="Everything Tandem holds about you",
            ),
        ),
    )
