"""What a handler needs to act for one person: the session, who they are, where they are."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.chat.errors import Refused
from bot.chat.lookup import find_program, live_programs
from bot.kernel.events import Actor, Place, Reply
from bot.kernel.messages import Message, Section, Text, text_message
from bot.kernel.runtime import Runtime
from storage.tables import AuditEntry, Program, User, Workspace


@dataclass
class Ctx:
    core: Runtime
    session: AsyncSession
    workspace: Workspace
    user: User
    actor: Actor
    place: Place
    later: list[Callable[[], Awaitable[Any]]] = field(default_factory=list)  # run after commit
    admin_required: bool = False  # set by the command dispatcher for admin commands run by non-admins
    admin_checked: bool = False  # a program this person administers was named (see require_admin)

    @property
    def now(self):  # noqa: ANN201
        return self.core.clock.now()

    async def program(self, ref: str | None) -> Program:
        """The program a command means: named by ``ref``, else this channel's, else the person's only one.

        In an admin command it must also be a program this person administers (else :class:`Refused`).
        """
        program = await find_program(self.session, self.workspace.id, self.user, ref, self.place.channel_id)
        if self.admin_required:
            self.require_admin(program)
        return program

    def is_admin(self, program: Program | None = None) -> bool:
        """Workspace admins/owners, configured admins, and a program's creator (for that program)."""
        if self.user.is_platform_admin:
            return True
        if self.core.admins.is_listed(self.workspace.platform, self.user.platform_user_id):
            return True
        return program is not None and program.created_by_user_id == self.user.id

    def require_admin(self, program: Program | None = None, *, hint: str = "") -> None:
        """Go on only if this person administers ``program`` (or the workspace); else refuse, changing nothing."""
        if not self.is_admin(program):
            raise Refused(hint)
        self.admin_checked = True

    async def require_admin_of_some(self) -> list[Program]:
        """The workspace's programs this person administers; refuse unless there is one (or they run the workspace).

        For admin commands about no single program (``program list``, ``content list``): a program's creator
        may use them, for their own programs.
        """
        mine = [p for p in await live_programs(self.session, self.workspace.id) if self.is_admin(p)]
        self.require_admin(mine[0] if mine else None)
        return mine

    async def audit(self, action: str, program: Program | None = None, **details: object) -> None:
        assert self.workspace.id is not None  # a stored row has an id
        self.session.add(
            AuditEntry(
                workspace_id=self.workspace.id,
                actor_user_id=self.user.id,
                program_id=program.id if program else None,
                action=action,
                details={k: v for k, v in details.items()},
                at=self.now,
            )
        )


def say(text: str, *, ephemeral: bool = True) -> Reply:
    return Reply(message=text_message(text), ephemeral=ephemeral)


def say_lines(title: str, lines: list[str], *, ephemeral: bool = True) -> Reply:
    body = Text.of(f"**{title}**\n" + "\n".join(lines))
    return Reply(message=Message(summary=title, blocks=(Section(text=body),)), ephemeral=ephemeral)


__all__ = ["Ctx", "say", "say_lines"]
