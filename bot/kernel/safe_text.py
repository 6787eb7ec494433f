"""Text from a platform or a person, made safe once where it enters: no control or bidi characters.

BEL, ESC and the other C0/C1 controls can ring terminals or break logs; U+202E and friends can make a
name read backwards ("moc.evil" shown as "live.com"). Tabs and newlines stay. The limits are those of the
columns the values end up in, so an over-long name never locks its owner out of a database write.
"""

from __future__ import annotations

import re

NAME_MAX = 200  # user.display_name, program.name, workspace.name
EMAIL_MAX = 320  # user.email
ZONE_MAX = 64  # user.timezone, program.timezone
FORM_VALUE_MAX = 3_000  # the longest text input any form offers (bot/content/models.py TEXT_MAX_LENGTH)
FORM_CHOICES_MAX = 100  # options picked in one multi-select
TEXT_MAX = 40_000  # Slack's own cap on a message's text; Teams' is lower

_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean(value: str, limit: int | None = None) -> str:
    """``value`` without control or bidi characters, cut to ``limit`` characters when one is given."""
    cleaned = _UNSAFE.sub("", value)
    return cleaned if limit is None else cleaned[:limit]


def bounded(value: str | None, limit: int) -> str | None:
    """A cleaned value, or ``None`` when it was absent or longer than ``limit`` (an email or zone cut short
    would be a different, wrong value)."""
    if value is None:
        return None
    cleaned = clean(value)
    return cleaned if len(cleaned) <= limit else None
