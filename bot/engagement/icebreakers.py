"""Channel icebreakers: one question at a time, answered in its thread, never repeated until the bank is used.

Each post links to the best-loved answers of the previous one, when the platform can tell us (the port's
optional ``top_replies``); otherwise the post simply has no highlight.
"""

from __future__ import annotations

import asyncio
import logging
import random

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.content import Icebreaker, load_library, next_icebreaker
from bot.delivery.outbox import Outgoing, enqueue, to_channel
from bot.engagement.custom_content import custom_icebreakers, question_key
from bot.kernel.messages import Actions, Button, Context, Header, Mention, Message, Section, Text
from bot.kernel.port import ThreadReply
from bot.kernel.runtime import Runtime
from storage.tables import Delivery, IcebreakerPost, Program, User, Workspace

log = logging.getLogger("tandem.icebreakers")

HIGHLIGHTS = 3  # answers linked from the next post
HIGHLIGHT_TIMEOUT = 10.0  # seconds; a slow platform must not hold the step (and its transaction) for long
LINK = "link:icebreaker"


async def bank(session: AsyncSession, program: Program) -> list[Icebreaker]:
    """The library's questions plus the admins' own for this workspace or program, each question once.

    Two that differ only in capitals, spacing or the question mark are one question (the first is kept).
    """
    seen: set[str] = set()
    out: list[Icebreaker] = []
    for icebreaker in [*load_library().icebreakers, *await custom_icebreakers(session, program)]:
        key = question_key(icebreaker.text)
        if key not in seen:
            seen.add(key)
            out.append(icebreaker)
    return out


async def best_loved(
    core: Runtime, session: AsyncSession, program: Program, previous: IcebreakerPost | None
) -> list[ThreadReply]:
    """The previous post's most-reacted answers, or nothing if the platform can't say."""
    if previous is None or not previous.message_id:
        return []
    workspace = await session.get(Workspace, program.workspace_id)
    if workspace is None or workspace.platform not in core.ports:
        return []
    port = core.port(workspace.platform)
    fetch = getattr(port, "top_replies", None)
    if fetch is None:
        return []
    try:
        replies = await asyncio.wait_for(
            fetch(workspace.external_id, previous.channel_id, previous.message_id, HIGHLIGHTS), HIGHLIGHT_TIMEOUT
        )
    except Exception:  # a highlight is a nicety: never let it stop the post
        log.warning("could not read the answers to icebreaker post %s", previous.id, exc_info=True)
        return []
    if getattr(port.capabilities, "reactions", False):
        replies = [r for r in replies if r.reactions > 0]
    return list(replies)[:HIGHLIGHTS]


async def highlight_blocks(
    session: AsyncSession,
    program: Program,
    previous: IcebreakerPost,
    replies: list[ThreadReply],
    questions: dict[str, Icebreaker],
) -> list:
    """'Favourite answers to last time's question' with a link to each; no name for people who opted out."""
    users = {
        u.platform_user_id: u
        for u in (
            await session.exec(
                select(User).where(
                    User.workspace_id == program.workspace_id,
                    col(User.platform_user_id).in_([r.user_id for r in replies]),
                )
            )
        ).all()
    }
    asked = questions.get(previous.question_id)
    lead = f"❤️ Favourite answers to “{asked.text}”" if asked else "❤️ Favourite answers from last time"
    blocks: list = [Section(text=Text.of(f"**{lead}**"))]
    buttons = []
    for n, reply in enumerate(replies, start=1):
        user = users.get(reply.user_id)
        parts: list = [f"{n}. “{reply.text[:200]}”"]
        if user is None or user.shoutouts:
            parts += [" by ", Mention(user_id=reply.user_id, name=user.display_name if user else reply.user_id)]
        if reply.reactions:
            parts.append(f" ({reply.reactions} reaction{'s' if reply.reactions != 1 else ''})")
        blocks.append(Context(text=Text.of(*parts)))
        if reply.permalink:
            buttons.append(Button(label=f"Answer {n}", action_id=f"{LINK}:{n}", url=reply.permalink))
    if buttons:
        blocks.append(Actions(elements=tuple(buttons)))
    return blocks


async def post_icebreaker(core: Runtime, session: AsyncSession, program: Program, key: str) -> IcebreakerPost | None:
    """Post the next question once per ``key`` (a schedule slot or an admin's 'icebreaker now')."""
    step_key = f"icebreaker:{program.id}:{key}"
    if (await session.exec(select(Delivery.id).where(Delivery.idempotency_key == step_key))).first() is not None:
        return None  # already posted for this slot
    posts = list(
        (
            await session.exec(
                select(IcebreakerPost).where(IcebreakerPost.program_id == program.id).order_by(col(IcebreakerPost.id))
            )
        ).all()
    )
    cycle = posts[-1].cycle if posts else 0
    used = {p.question_id for p in posts if p.cycle == cycle}
    rng = random.Random(f"{program.id}:{len(posts)}")
    items = await bank(session, program)
    question, reset = next_icebreaker(items, used, rng, last_id=posts[-1].question_id if posts else None)
    if reset:
        cycle += 1
    previous = posts[-1] if posts else None
    replies = await best_loved(core, session, program, previous)
    assert program.id is not None  # a stored row has an id
    post = IcebreakerPost(
        program_id=program.id,
        channel_id=program.channel_id,
        question_id=question.id,
        cycle=cycle,
        posted_at=core.clock.now(),
    )
    session.add(post)
    await session.flush()
    blocks: list = [Header(text="Icebreaker of the week 🧊"), Section(text=Text.of(f"**{question.text}**"))]
    if question.options:
        blocks.append(Context(text=Text.of(" or ".join(question.options) + "? Tell us why in the thread.")))
    else:
        blocks.append(Context(text=Text.of("Answer in the thread 👇 Everyone's welcome.")))
    if replies and previous is not None:
        blocks += await highlight_blocks(session, program, previous, replies, {i.id: i for i in items})
    target = to_channel(program.channel_id) | {"icebreaker_post_id": post.id}
    written = await enqueue(
        session,
        program.workspace_id,
        [
            Outgoing(
                key=step_key,
                step="icebreaker",
                target=target,
                message=Message(summary=question.text, blocks=tuple(blocks)),
                program_id=program.id,
            )
        ],
        core.clock.now(),
    )
    if not written:  # already posted for this slot: undo the extra row
        await session.delete(post)
        return None
    return post
