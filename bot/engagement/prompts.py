"""Weekly conversation prompts for each group, from the content library's tracks."""

from __future__ import annotations

from bot.content import MENTORING, PEER, ContentLibrary, TrackPrompt, load_library
from bot.kernel.messages import Context, Header, Section, Text
from storage.enums import ProgramKind
from storage.tables import Program


def library() -> ContentLibrary:
    return load_library()


def track_kind(program: Program) -> str:
    return MENTORING if program.kind == ProgramKind.MENTORING.value else PEER


def prompt_for(program: Program, week: int) -> TrackPrompt:
    return library().prompt_for_week(track_kind(program), week)


def prompt_blocks(
    program: Program, week: int, *, heading: bool = True, extra: list[str] | tuple[str, ...] = ()
) -> list:
    """The library prompt for the week, plus the program team's own questions for that week (``extra``)."""
    prompt = prompt_for(program, week)
    blocks: list = []
    if heading:
        blocks.append(Header(text=f"Week {week} · {prompt.title}"))
    blocks.append(Section(text=Text.of(f"💬 **{prompt.question}**")))
    blocks.append(Context(text=Text.of("\n".join(f"• {q}" for q in prompt.follow_ups))))
    for question in extra:
        blocks.append(Section(text=Text.of(f"✨ From your program team: **{question}**")))
    return blocks
