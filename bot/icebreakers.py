"""Channel icebreakers: one question at a time, answered in its thread, never repeated until the bank is used."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.content import Icebreaker, IcebreakerCategory, load_library, next_icebreaker
from bot.messages import Context, Header, Message, Section, Text
from bot.outbox import Outgoing, enqueue, to_channel
from storage.tables import CustomContent, IcebreakerPost, Program

if TYPE_CHECKING:
    from bot.core import Tandem


async def bank(session: AsyncSession, program: Program) -> list[Icebreaker]:
    """The library's questions plus the admins' own for this workspace or program."""
    items = list(load_library().icebreakers)
    custom = (await session.exec(select(CustomContent).where(
        CustomContent.workspace_id == program.workspace_id, CustomContent.kind == "icebreaker")
        .order_by(col(CustomContent.id)))).all()
    for row in custom:
        if row.program_id not in (None, program.id):
            continue
        items.append(Icebreaker(id=f"custom-{row.id}", category=IcebreakerCategory(row.payload.get("category", "fun")),
                                text=row.payload["text"]))
    return items


async def post_icebreaker(core: Tandem, session: AsyncSession, program: Program, key: str) -> IcebreakerPost | None:
    """Post the next question once per ``key`` (a schedule slot or an admin's 'icebreaker now')."""
    step_key = f"icebreaker:{program.id}:{key}"
    posts = list((await session.exec(select(IcebreakerPost).where(IcebreakerPost.program_id == program.id)
                                     .order_by(col(IcebreakerPost.id)))).all())
    cycle = posts[-1].cycle if posts else 0
    used = {p.question_id for p in posts if p.cycle == cycle}
    rng = random.Random(f"{program.id}:{len(posts)}")
    question, reset = next_icebreaker(await bank(session, program), used, rng)
    if reset:
        cycle += 1
    post = IcebreakerPost(program_id=program.id, channel_id=program.channel_id, question_id=question.id,
                          cycle=cycle, posted_at=core.clock.now())
    session.add(post)
    await session.flush()
    blocks: list = [Header(text="Icebreaker of the week 🧊"), Section(text=Text.of(f"**{question.text}**"))]
    if question.options:
        blocks.append(Context(text=Text.of(" or ".join(question.options) + "? Tell us why in the thread.")))
    else:
        blocks.append(Context(text=Text.of("Answer in the thread 👇 Everyone's welcome.")))
    target = to_channel(program.channel_id) | {"icebreaker_post_id": post.id}
    written = await enqueue(session, program.workspace_id, [Outgoing(
        key=step_key, step="icebreaker", target=target, message=Message(summary=question.text, blocks=tuple(blocks)),
        program_id=program.id)], core.clock.now())
    if not written:  # already posted for this slot: undo the extra row
        await session.delete(post)
        return None
    return post
