"""How urgent each kind of outgoing message is: whether quiet hours hold it, and whether the weekly cap counts it.

Kinds are the delivery's ``step``. Three classes:

* ``NOW``: answers to something the person just did, and reminders tied to a time they chose; never held.
* ``CAN_WAIT``: things other people (or admins) set going, and the "how did it go?" after a chat people
  booked: held outside the reader's day, bundled into the day's digest, never counted or dropped by the cap.
* ``UNPROMPTED``: what the bot starts on its own schedule (prompts, surveys, reviews): held, bundled,
  and counted against the program's weekly cap; when the cap is reached the lower priorities are dropped
  and the rest wait for the reader's next week.

A step nobody listed can wait (held by quiet hours, not capped): a late message beats a 2 a.m. ping.
"""

from __future__ import annotations

from enum import StrEnum

SURVEY_PREFIX = "survey:"
DAY_DIGEST = "day_digest"  # the step of one day's digest (``digest`` is the admins' weekly at-risk list)


class Urgency(StrEnum):
    NOW = "now"
    CAN_WAIT = "can_wait"
    UNPROMPTED = "unprompted"


NOW_STEPS = frozenset({"reminder", "welcome", "installed", "export"})

# unprompted steps and their priority: the highest go first when the week has room for only some;
# at or below DROP_AT a message that does not fit is dropped, above it waits for the reader's next week
UNPROMPTED_PRIORITY = {
    "wrapup": 6,
    "goal_review": 5,
    "agreement_reminder": 4,
    "survey:reminder": 1,
    "prompt": 2,
    "welcome_back": 1,
}
SURVEY_PRIORITY = 3
DROP_AT = 2


def urgency(step: str) -> Urgency:
    if step in NOW_STEPS:
        return Urgency.NOW
    if step in UNPROMPTED_PRIORITY or step.startswith(SURVEY_PREFIX):
        return Urgency.UNPROMPTED
    return Urgency.CAN_WAIT


def priority(step: str) -> int:
    """Higher goes first; CAN_WAIT and NOW steps outrank every unprompted one."""
    if urgency(step) != Urgency.UNPROMPTED:
        return 10
    return UNPROMPTED_PRIORITY.get(step, SURVEY_PRIORITY)


def droppable(step: str) -> bool:
    """Loses its point if it comes a week late (a weekly prompt, a survey reminder): dropped, not held."""
    return urgency(step) == Urgency.UNPROMPTED and priority(step) <= DROP_AT
