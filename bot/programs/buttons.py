"""The membership buttons: join, leave, open my profile, end my pause. Their ids are in sent messages."""

from __future__ import annotations

from typing import NamedTuple

from bot.chat.registry import ButtonKind, NoValue


class ProgramRef(NamedTuple):
    program_id: int


JOIN = ButtonKind("program:join", ProgramRef)
LEAVE = ButtonKind("program:leave", ProgramRef)
PROFILE_OPEN = ButtonKind("profile:open", ProgramRef)
RESUME = ButtonKind("pause:resume", NoValue)  # ends every pause; older buttons carried a program id
