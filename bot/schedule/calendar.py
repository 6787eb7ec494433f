"""A program's calendar: which steps fall when, computed from its local weekday and time (DST-correct).

Each week of a program has an anchor: the intro weekday at the intro time on the program's wall clock.
Rounds start on anchors picked by the cadence; prompts, check-ins and icebreakers hang off every anchor.
Computing from local dates (not by adding 7×24 h) keeps 10:00 at 10:00 across daylight-saving changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.kernel.timeutil import local_dt, parse_hhmm, zone
from storage.enums import Cadence
from storage.tables import Program

CHECKIN_DELAY = timedelta(days=3)
ICEBREAKER_DELAY = timedelta(days=1)
DIGEST_DELAY = timedelta(days=2)  # the weekly at-risk digest for admins (bot/risk.py)

# How late a missed step may still run after downtime; older ones are skipped (and logged). An intro three
# days late is still useful; an icebreaker posted the next day is not. TANDEM_STEP_GRACE_HOURS overrides all.
GRACE = {
    "round": timedelta(days=2),
    "prompt": timedelta(days=2),
    "checkin": timedelta(days=2),
    "icebreaker": timedelta(hours=20),
    "digest": timedelta(days=2),
}
DEFAULT_GRACE = timedelta(days=1)


def grace(kind: str, override: timedelta | None = None) -> timedelta:
    """How late a step of ``kind`` may run; ``override`` (from the settings) wins over the per-kind default."""
    return override if override is not None else GRACE.get(kind, DEFAULT_GRACE)


ORDER = ("round", "prompt", "icebreaker", "checkin")  # at the same instant: match first, then prompt the rest


@dataclass(frozen=True)
class Occurrence:
    kind: str
    week: int
    due_at: datetime
    round_number: int | None = None

    def key(self, program_id: int) -> str:
        return f"program:{program_id}:{self.kind}:week:{self.week}"


def anchors(program: Program, until: datetime) -> list[datetime]:
    """Every weekly anchor from the program's start up to ``until``."""
    start = program.starts_on or program.created_at
    if start is None:
        return []
    tz = program.timezone
    at = parse_hhmm(program.intro_time)
    local_start = start.astimezone(zone(tz)).date()
    first_day = local_start + timedelta(days=(program.intro_weekday - local_start.weekday()) % 7)
    first = local_dt(first_day, at, tz)
    if first < start:
        first_day += timedelta(days=7)
    out: list[datetime] = []
    week = 0
    while True:
        instant = local_dt(first_day + timedelta(weeks=week), at, tz)
        if instant > until:
            return out
        out.append(instant)
        week += 1


def is_round_week(program: Program, week: int, anchor: datetime) -> bool:
    if program.cadence == Cadence.BIWEEKLY.value:
        return week % 2 == 0
    if program.cadence == Cadence.MONTHLY.value:
        return anchor.astimezone(zone(program.timezone)).day <= 7
    return True


def occurrences(program: Program, until: datetime) -> list[Occurrence]:
    """All steps due up to ``until``, oldest first."""
    out: list[Occurrence] = []
    rounds = 0
    for week, anchor in enumerate(anchors(program, until)):
        if is_round_week(program, week, anchor):
            rounds += 1
            out.append(Occurrence("round", week, anchor, rounds))
        # every week: ongoing groups (mentoring pairs, or peers between rounds) get that week's prompt
        out.append(Occurrence("prompt", week, anchor))
        out.append(Occurrence("icebreaker", week, anchor + ICEBREAKER_DELAY))
        out.append(Occurrence("checkin", week, anchor + CHECKIN_DELAY))
        out.append(Occurrence("digest", week, anchor + DIGEST_DELAY))
    return sorted((o for o in out if o.due_at <= until), key=_order)


def _order(o: Occurrence) -> tuple[datetime, int, str]:
    return o.due_at, ORDER.index(o.kind) if o.kind in ORDER else len(ORDER), o.kind


def next_occurrence(program: Program, after: datetime, kind: str = "round") -> datetime | None:
    """When the next step of ``kind`` is due (for status messages)."""
    for occurrence in occurrences(program, after + timedelta(days=70)):
        if occurrence.kind == kind and occurrence.due_at > after:
            return occurrence.due_at
    return None
