"""The profile's quiet-hours fields: when messages that can wait may reach a person (bot/delivery/quiet.py)."""

from __future__ import annotations

from bot.delivery.quiet import parse_day_hours, parse_weekend, show_weekend
from bot.kernel.messages import TextInput
from bot.kernel.timeutil import BadTime
from storage.tables import User

DAY_FIELD = "quiet_day"
WEEKEND_FIELD = "quiet_weekend"


def quiet_fields(user: User) -> tuple[TextInput, TextInput]:
    return (
        TextInput(
            field_id=DAY_FIELD,
            label="Messages that can wait: only between",
            placeholder="08:00-20:00",
            initial=f"{user.day_start}-{user.day_end}",
            optional=True,
            max_length=13,
        ),
        TextInput(
            field_id=WEEKEND_FIELD,
            label="…and never on (your weekend)",
            placeholder="sat, sun (or none)",
            initial=show_weekend(user.weekend),
            optional=True,
            max_length=40,
        ),
    )


def parse_quiet(user: User, day: str, weekend: str) -> tuple[tuple[str, str, list[int]], dict[str, str]]:
    """The checked values (blank keeps what is set) and field errors in the person's words."""
    errors: dict[str, str] = {}
    start, end, days = user.day_start, user.day_end, list(user.weekend)
    try:
        if day:
            start, end = parse_day_hours(day)
    except BadTime as problem:
        errors[DAY_FIELD] = str(problem)
    try:
        if weekend:
            days = parse_weekend(weekend)
    except BadTime as problem:
        errors[WEEKEND_FIELD] = str(problem)
    return (start, end, days), errors
