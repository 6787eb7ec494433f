"""Checking a time zone someone typed: IANA names only, and abbreviations answered with what they might mean.

``EST`` or ``CET`` say nothing about summer time and several of them mean different places (``IST`` is
India, Ireland or Israel), so they are refused with the IANA names the person probably meant. Python's
zone database still knows a few of them (``EST``, ``MST``, ``CET``…) as fixed zones; they are refused too.
"""

from __future__ import annotations

import difflib
from functools import lru_cache
from zoneinfo import available_timezones

from bot.kernel.timeutil import BadTime, zone

_NY, _CHI, _DEN, _LA = "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"
_LONDON, _BERLIN, _ATHENS, _SYDNEY = "Europe/London", "Europe/Berlin", "Europe/Athens", "Australia/Sydney"
_GROUPS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("EST", "EDT", "ET", "EST5EDT"), (_NY, "America/Toronto", "America/Detroit")),
    (("CST", "CDT", "CT", "CST6CDT"), (_CHI, "America/Mexico_City", "Asia/Shanghai")),
    (("MST", "MDT", "MT", "MST7MDT"), (_DEN, "America/Phoenix", "America/Edmonton")),
    (("PST", "PDT", "PT", "PST8PDT"), (_LA, "America/Vancouver", "Asia/Manila")),
    (("AKST", "AKDT"), ("America/Anchorage",)),
    (("HST",), ("Pacific/Honolulu",)),
    (("AST", "ADT"), ("America/Halifax", "Asia/Riyadh")),
    (("NST", "NDT"), ("America/St_Johns",)),
    (("GMT", "BST"), (_LONDON, "Europe/Dublin", "Asia/Dhaka")),
    (("IST",), ("Asia/Kolkata", "Europe/Dublin", "Asia/Jerusalem")),
    (("CET", "CEST", "MET", "MEST"), (_BERLIN, "Europe/Paris", "Europe/Madrid")),
    (("EET", "EEST"), (_ATHENS, "Europe/Helsinki", "Europe/Kyiv")),
    (("WET", "WEST"), ("Europe/Lisbon", "Atlantic/Canary")),
    (("MSK",), ("Europe/Moscow",)),
    (("JST",), ("Asia/Tokyo",)),
    (("KST",), ("Asia/Seoul",)),
    (("HKT",), ("Asia/Hong_Kong",)),
    (("SGT",), ("Asia/Singapore",)),
    (("AEST", "AEDT"), (_SYDNEY, "Australia/Melbourne", "Australia/Brisbane")),
    (("ACST", "ACDT"), ("Australia/Adelaide", "Australia/Darwin")),
    (("AWST",), ("Australia/Perth",)),
    (("NZST", "NZDT"), ("Pacific/Auckland",)),
    (("BRT",), ("America/Sao_Paulo",)),
    (("ART",), ("America/Argentina/Buenos_Aires",)),
    (("SAST",), ("Africa/Johannesburg",)),
    (("WAT",), ("Africa/Lagos",)),
    (("EAT",), ("Africa/Nairobi",)),
    (("PKT",), ("Asia/Karachi",)),
    (("ICT",), ("Asia/Bangkok", "Asia/Ho_Chi_Minh")),
    (("WIB",), ("Asia/Jakarta",)),
)
ABBREVIATIONS: dict[str, tuple[str, ...]] = {abbr: names for abbrs, names in _GROUPS for abbr in abbrs}
MAX_ZONE_CHARS = 64  # the longest IANA name is 32 characters; the column holds 64


@lru_cache(maxsize=1)
def _known() -> tuple[str, ...]:
    return tuple(sorted(n for n in available_timezones() if "/" in n))


def typed_zone(text: str) -> str:
    """The IANA name someone typed, checked; BadTime says what they might have meant instead."""
    name = text.strip()
    shown = name if len(name) <= 40 else name[:40] + "…"
    if len(name) > MAX_ZONE_CHARS:  # no zone name is this long; and no fuzzy search over 10 kB of text
        raise BadTime(f"'{shown}' is not a time zone I know. Use a name like Europe/Berlin.")
    meant = ABBREVIATIONS.get(name.upper())
    if meant is not None:
        raise BadTime(
            f"'{name}' is an abbreviation, and it doesn't say where you are. Use a zone name like {' or '.join(meant)}."
        )
    try:
        zone(name)
    except BadTime:
        close = difflib.get_close_matches(name, _known(), n=2, cutoff=0.75)
        hint = f"Did you mean {' or '.join(close)}?" if close else "Use a name like Europe/Berlin."
        raise BadTime(f"'{shown}' is not a time zone I know. {hint}") from None
    return name


def zone_problem(text: str) -> str | None:
    """What's wrong with a typed zone, in words for the person; None when it is fine."""
    try:
        typed_zone(text)
    except BadTime as exc:
        return str(exc)
    return None
