"""Filling in a form at the terminal, one field at a time, for `tandem chat`.

Enter keeps the value shown in brackets; a drop-down takes its option's number (several, comma-separated,
where it allows more than one); `:cancel` leaves the form and nothing is saved. When the bot refuses some
values, only those fields are asked again and the rest are kept.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console
from rich.markup import escape

from bot.kernel.messages import Form, FormField, RatingInput, SelectInput

Values = dict[str, str | list[str] | None]
CANCEL = ":cancel"


class Cancelled(Exception):
    """The person typed :cancel inside a form."""


def fill(
    form: Form,
    read: Callable[[str], str],
    console: Console,
    previous: Values | None = None,
    errors: dict[str, str] | None = None,
) -> Values:
    """Ask for every field (or just the refused ones) and return the values to submit."""
    values: Values = dict(previous or {})
    if errors is None:
        console.print(f"[bold magenta]📝 {escape(form.title)}[/]")
        if form.intro:
            console.print(f"[dim]{escape(form.intro)}[/]")
        console.print("[dim]Enter keeps the value in brackets; :cancel leaves the form.[/]")
    for f in form.fields:
        if errors is not None and f.field_id not in errors:
            continue
        if errors is not None:
            console.print(f"[red]{escape(f.label)}: {escape(errors[f.field_id])}[/]")
        values[f.field_id] = _ask(f, read, console, values.get(f.field_id))
    return values


def _ask(
    f: FormField, read: Callable[[str], str], console: Console, current: str | list[str] | None
) -> str | list[str] | None:
    if isinstance(f, SelectInput):
        return _ask_select(f, read, console, current)
    if isinstance(f, RatingInput):
        default = str(current or (f.initial if f.initial is not None else ""))
        return _typed(read(f"  {f.label} ({f.minimum}–{f.maximum}){_shown(default)}: "), default)
    default = current if isinstance(current, str) else f.initial
    hint = " (separate lines with ;)" if f.multiline else ""
    text = _typed(read(f"  {f.label}{hint}{_shown(default)}: "), default)
    return "\n".join(part.strip() for part in text.split(";")) if f.multiline else text


def _ask_select(
    f: SelectInput, read: Callable[[str], str], console: Console, current: str | list[str] | None
) -> str | list[str] | None:
    picked = current if current is not None else (list(f.initial) if f.multiple else (f.initial or ("",))[0])
    chosen = picked if isinstance(picked, list) else [picked] if picked else []
    console.print(f"  {escape(f.label)}:")
    for index, option in enumerate(f.options, start=1):
        mark = "•" if option.value in chosen else " "
        console.print(f"    {mark} [bold]{index}[/] {escape(option.label)}")
    default = ",".join(str(i) for i, o in enumerate(f.options, start=1) if o.value in chosen)
    prompt = "  numbers, comma-separated" if f.multiple else "  number"
    while True:
        answer = _typed(read(f"{prompt}{_shown(default)}: "), default)
        picks = [p.strip() for p in answer.split(",") if p.strip()] if f.multiple else [answer.strip()]
        values = [_option(f, p) for p in picks if p]
        if None not in values:
            clean = [v for v in values if v is not None]
            return clean if f.multiple else (clean[0] if clean else None)
        console.print(f"  [red]Pick a number from 1 to {len(f.options)}.[/]")


def _option(f: SelectInput, pick: str) -> str | None:
    """An option by its number or its label (any case)."""
    if pick.isdigit() and 1 <= int(pick) <= len(f.options):
        return f.options[int(pick) - 1].value
    return next((o.value for o in f.options if pick.lower() in (o.label.lower(), o.value.lower())), None)


def _shown(default: str | None) -> str:
    return f" [{default}]" if default else ""


def _typed(answer: str, default: str | None) -> str:
    if answer.strip() == CANCEL:
        raise Cancelled
    return answer.strip() or (default or "")
