"""Who will see what a person writes: one short line under every survey and form, in the same words everywhere.

People answer more honestly when they know who reads the answer, and works councils ask exactly this. The
lines live here, one floor below every feature that asks something, so each form says it the same way.
"""

from __future__ import annotations

from typing import Final

NAMED_SURVEY: Final = (
    "👁 Only the program's organisers see your answers, to help pairs who need a hand; your partner never does."
)
ANONYMOUS_SURVEY: Final = "🔒 Anonymous: shown only as totals of 3 or more, never with your name."
PROFILE: Final = "👁 Your matches and the program's organisers see your profile."
AGREEMENT: Final = "👁 Your partner and the program's organisers see your goals and how you agreed to work."
RECAP: Final = "🔒 Private: only the people in this match ever see it, never the program's organisers."
AVOID: Final = "🔒 Only you see this list; nobody is told they are on it."
PROGRAM: Final = "👁 Everyone in the program's channel sees its name and schedule."

NAMED_LABEL: Final = "named (organisers see who answered)"
ANONYMOUS_LABEL: Final = "anonymous (totals of 3 or more only)"


def survey_line(anonymous: bool) -> str:
    """The line under a survey or its comment form."""
    return ANONYMOUS_SURVEY if anonymous else NAMED_SURVEY


def with_line(intro: str, line: str) -> str:
    """A form's intro with the visibility line after it."""
    return f"{intro}\n{line}" if intro else line
