"""Neutral messages as terminal text (rich markup)."""

from __future__ import annotations

import re

from rich.markup import escape

from bot.kernel.messages import (
    Actions,
    Button,
    Choice,
    Context,
    Divider,
    Form,
    GroupChatButton,
    Header,
    Image,
    Message,
    RatingInput,
    Section,
    SelectInput,
    Text,
    TextInput,
)

_BOLD = re.compile(r"\*\*(.+?)\*\*", re.S)


def inline(text: Text) -> str:
    out = []
    for part in text.parts:
        out.append(escape(part) if isinstance(part, str) else f"[bold cyan]@{escape(part.name)}[/]")
    return _BOLD.sub(r"[bold]\1[/bold]", "".join(out))


def render_message(message: Message) -> str:
    lines: list[str] = []
    for block in message.blocks:
        if isinstance(block, Header):
            lines.append(f"[bold magenta]{escape(block.text)}[/]")
        elif isinstance(block, Section):
            lines.append(inline(block.text))
            lines.extend(f"  [dim]{escape(k)}:[/] {escape(v)}" for k, v in block.fields)
        elif isinstance(block, Context):
            lines.append(f"[dim]{inline(block.text)}[/]")
        elif isinstance(block, Divider):
            lines.append("[dim]" + "─" * 40 + "[/]")
        elif isinstance(block, Actions):
            lines.append("  ".join(_element(e) for e in block.elements))
        elif isinstance(block, Image):
            lines.append(f"[dim]🖼 {escape(block.alt)}[/]")
    for f in message.files:
        lines.append(f"[dim]📎 {escape(f.filename)}[/]")
    return "\n".join(lines) if lines else escape(message.summary)


def _element(element: Button | GroupChatButton | Choice) -> str:
    if isinstance(element, Choice):
        return f"[yellow]⌄ {escape(element.placeholder)}: {' / '.join(escape(o.label) for o in element.options)}[/]"
    if isinstance(element, GroupChatButton) or element.url:
        return f"[blue underline]{escape(element.label)} ↗[/]"
    colour = {"primary": "green", "danger": "red"}.get(element.style or "", "yellow")
    return f"[{colour}]\\[{escape(element.label)}][/]"


def render_form(form: Form, values: dict[str, str | list[str] | None] | None = None) -> str:
    """A form as the person sees it; with ``values``, as they filled it in (option labels, not codes)."""
    lines = [f"[bold magenta]📝 {escape(form.title)}[/]"]
    if form.intro:
        lines.append(f"[dim]{escape(form.intro)}[/]")
    for field in form.fields:
        if values is not None:
            lines.append(f"  {escape(field.label)}: [bold]{escape(chosen(field, values.get(field.field_id)))}[/]")
        elif isinstance(field, TextInput):
            lines.append(f"  {escape(field.label)}: [italic]{escape(field.initial or field.placeholder)}[/]")
        elif isinstance(field, SelectInput):
            lines.append(f"  {escape(field.label)}: {' / '.join(escape(o.label) for o in field.options)}")
        elif isinstance(field, RatingInput):
            lines.append(f"  {escape(field.label)}: {field.minimum}–{field.maximum}")
    return "\n".join(lines)


def chosen(field: TextInput | SelectInput | RatingInput, value: str | list[str] | None) -> str:
    """A submitted value in words: a drop-down's labels, lines joined with "; ", "–" for nothing."""
    if value is None or value == "" or value == []:
        if isinstance(field, TextInput) and field.initial:
            return field.initial
        return "–"
    picked = value if isinstance(value, list) else [value]
    if isinstance(field, SelectInput):
        labels = {o.value: o.label for o in field.options}
        picked = [labels.get(v, v) for v in picked]
    return ", ".join(p.replace("\n", "; ") for p in picked)
