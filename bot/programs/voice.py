"""People in their own words: the "about me" and "ask me about" lines intros show, and a preview for oneself.

One function renders them, so what ``profile show`` previews is exactly what a match will read.
"""

from __future__ import annotations

from bot.kernel.messages import Context, Mention, Message, Section, Text
from storage.tables import User

MAX_ABOUT = 280
MAX_ASK = 200


def has_voice(user: User) -> bool:
    return bool(user.about_me or user.ask_me_about)


def voice_block(user: User) -> Section | None:
    """“Ana: I build data pipelines. Ask me about: climbing, Rust” or None when they wrote nothing."""
    if not has_voice(user):
        return None
    parts: list[str | Mention] = [Mention(user_id=user.platform_user_id, name=user.display_name)]
    if user.about_me:
        parts.append(f": “{user.about_me}”")
    if user.ask_me_about:
        parts.append(f"\n_Ask me about:_ {user.ask_me_about}")
    return Section(text=Text.of(*parts))


def voice_blocks(users: list[User]) -> list[Section]:
    """Everyone's own words, in the order given; people who wrote nothing are left out."""
    return [block for block in map(voice_block, users) if block is not None]


def preview(user: User, program_name: str, *, lead: str = "") -> Message:
    """What a match in ``program_name`` reads about this person, with how to change it (after ``lead``)."""
    block = voice_block(user)
    if block is None:
        blocks: tuple = (
            Section(
                text=Text.of(
                    lead + f"Your intros in {program_name} show only your name and why you were matched. Add a line "
                    "“about me” and what people can “ask me about” with `profile`: matches find it easier to start."
                )
            ),
        )
    else:
        blocks = (
            Section(text=Text.of(lead + f"This is what your matches in {program_name} see about you:")),
            block,
            Context(text=Text.of("Change it any time with `profile`.")),
        )
    return Message(summary=lead.strip() or "Your profile as others see it", blocks=blocks)
