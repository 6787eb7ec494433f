"""The home view (Slack's Home tab, a Teams personal card): my matches, next chat, surveys, admin health."""

from __future__ import annotations

from bot.admin.stats import pct, program_stats
from bot.app.status import status_lines
from bot.chat.context import Ctx
from bot.chat.registry import NoValue
from bot.delivery.report import admin_delivery_lines
from bot.kernel.events import Actor, Place
from bot.kernel.messages import Actions, Context, Divider, Header, Message, Section, Text
from bot.kernel.runtime import Runtime
from bot.programs.buttons import PROFILE_OPEN, RESUME, ProgramRef
from bot.programs.membership import is_paused, memberships_of, programs_in
from bot.programs.people import actor_context


async def home_view(core: Runtime, actor: Actor) -> Message:
    async with core.db.transaction() as session:
        workspace, user = await actor_context(session, actor, core.clock.now())
        ctx = Ctx(core=core, session=session, workspace=workspace, user=user, actor=actor, place=Place())
        now = core.clock.now()
        blocks: list = [
            Header(text="Tandem"),
            Section(text=Text.of("\n".join(await status_lines(core, session, user)))),
        ]
        memberships = await memberships_of(session, user.id)
        buttons = []
        if any(is_paused(m, now) for m in memberships):
            buttons.append(RESUME.button("Resume now", NoValue(), style="primary"))
        else:
            blocks.append(Context(text=Text.of("Going on holiday? Type `pause 2w` or `pause until 2026-12-24`.")))
        for m in memberships[:3]:
            buttons.append(
                PROFILE_OPEN.button(
                    "Edit my profile" if len(memberships) == 1 else f"Profile ({m.program_id})",
                    ProgramRef(m.program_id),
                )
            )
        if buttons:
            blocks.append(Actions(elements=tuple(buttons)))
        programs = await programs_in(session, workspace.id)
        admin_of = [p for p in programs if ctx.is_admin(p)]
        if admin_of:
            blocks += [Divider(), Header(text="Programs you run")]
            for program in admin_of:
                s = await program_stats(session, program, now)
                o = s.overall()
                blocks.append(
                    Section(
                        text=Text.of(
                            f"**{program.name}** (#{program.channel_id}): {s.active} active, {s.paused} paused, "
                            f"{s.waitlisted} waitlisted · {len(s.rounds)} rounds · met {pct(o.meeting_rate)} · "
                            f"deliveries: {s.deliveries_sent} sent, {s.deliveries_pending} waiting, "
                            f"{s.deliveries_failed} failed"
                        )
                    )
                )
            delivery = await admin_delivery_lines(session, admin_of)
            if delivery:
                blocks.append(Section(text=Text.of("\n".join(delivery))))
        return Message(summary="Tandem home", blocks=tuple(blocks))
