"""The two ways a command or a click ends early with an answer instead of a change.

Features raise them; the dispatchers in :mod:`bot.chat.registry` turn them into a reply, so no handler
repeats the refusal text and no person ever sees a traceback.
"""

from __future__ import annotations

REFUSAL = (
    "Sorry, only program admins can do that. Ask your workspace admin or the person who created the "
    "program; nothing was changed."
)


class CommandError(ValueError):
    """A request the person can fix (a program that doesn't exist, a stale click); ``str(exc)`` says how."""


class Refused(Exception):
    """The person may not do this; raised before anything changes, answered with :data:`REFUSAL`.

    ``hint`` is added under the refusal when there is a way the person *can* do it (e.g. name their program).
    """

    def __init__(self, hint: str = "") -> None:
        super().__init__(REFUSAL + hint)
        self.hint = hint

    @property
    def text(self) -> str:
        return REFUSAL + self.hint
