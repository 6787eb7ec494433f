"""Working-hours overlap across IANA time zones.

Each person's local working day is turned into a 96-bit mask of the UTC day (one bit per quarter hour,
wrapping at midnight), computed on a fixed reference date so results never depend on when the
round runs. Shared hours are then one AND and a popcount.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

SLOTS_PER_DAY = 96
SLOT_MINUTES = 15
FULL_DAY = (1 << SLOTS_PER_DAY) - 1
# A Wednesday outside every DST switch week; fixed so the same input always scores the same.
REFERENCE_DATE = (2025, 3, 19)


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


@lru_cache(maxsize=4096)
def working_mask(timezone: str, start: str, end: str) -> int:
    """Quarter-hour bits of the UTC day covered by local working hours `start`-`end` in `timezone`.

    An end before the start means the shift runs past local midnight.
    """
    begin, finish = _minutes(start), _minutes(end)
    if finish <= begin:
        finish += 24 * 60
    local = datetime(*REFERENCE_DATE, tzinfo=ZoneInfo(timezone))
    offset = local.utcoffset() or timedelta(0)
    utc_begin = begin - int(offset.total_seconds() // 60)
    first = round(utc_begin / SLOT_MINUTES)
    count = round((finish - begin) / SLOT_MINUTES)
    if count >= SLOTS_PER_DAY:
        return FULL_DAY
    mask = 0
    for slot in range(first, first + count):
        mask |= 1 << (slot % SLOTS_PER_DAY)
    return mask


def hours(mask: int) -> float:
    """Length of a mask in hours."""
    return mask.bit_count() * SLOT_MINUTES / 60


def shared_hours(*masks: int) -> float:
    """Hours during which everyone given is at work."""
    common = FULL_DAY
    for mask in masks:
        common &= mask
    return hours(common)
