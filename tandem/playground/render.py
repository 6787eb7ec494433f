"""Neutral messages and forms as HTML: what an adapter's renderer does for Slack or Teams, for a browser.

Every button is a small form that posts its action id and value as the person in that pane; a drop-down is a
``<select>``; links open in a new tab; files are downloads (an image, like the stats chart, is shown).
"""

from __future__ import annotations

import re

from bot.kernel.messages import (
    Actions,
    Block,
    Button,
    Choice,
    Context,
    Divider,
    FileAttachment,
    Form,
    FormField,
    GroupChatButton,
    Header,
    Image,
    Mention,
    Message,
    RatingInput,
    Section,
    SelectInput,
    Text,
)
from tandem.playground.html import Html, join, tag

_BOLD = re.compile(r"\*\*(.+?)\*\*", re.S)
_ITALIC = re.compile(r"(?<![\w_])_(?!\s)(.+?)(?<!\s)_(?![\w_])", re.S)
Values = dict[str, str | list[str] | None]


def inline(body: Text) -> Html:
    """Text with its light markup (**bold**, _italic_) and mentions; escaped first, so markup is only ours."""
    out = join(
        tag("span", "@", part.name, class_="mention") if isinstance(part, Mention) else part for part in body.parts
    )
    return Html(_ITALIC.sub(r"<em>\1</em>", _BOLD.sub(r"<strong>\1</strong>", out)))


def hidden(**fields: str) -> Html:
    return join(tag("input", type="hidden", name=k, value=v) for k, v in fields.items())


def render_message(message: Message, pane: str, message_id: str, token: str) -> Html:
    """One message as the person in ``pane`` sees it; its buttons act as that person on that message."""
    where = {"pane": pane, "message": message_id, "token": token}  # pane "" draws buttons nobody can click
    blocks = [_block(block, where) for block in message.blocks] or [tag("p", message.summary)]
    return join([*blocks, *(_file(f) for f in message.files)])


def _block(block: Block, where: dict[str, str]) -> Html:
    if isinstance(block, Header):
        return tag("h4", block.text)
    if isinstance(block, Section):
        fields = tag("dl", [(tag("dt", k), tag("dd", v)) for k, v in block.fields]) if block.fields else None
        return join([tag("p", inline(block.text)), fields])
    if isinstance(block, Context):
        return tag("p", inline(block.text), class_="context")
    if isinstance(block, Divider):
        return tag("hr")
    if isinstance(block, Image):
        return tag("img", src=block.url, alt=block.alt, class_="block-image")
    assert isinstance(block, Actions)
    return tag("div", [_element(e, where) for e in block.elements], class_="actions")


def _element(element: Button | GroupChatButton | Choice, where: dict[str, str]) -> Html:
    if isinstance(element, GroupChatButton):
        return tag("span", element.label, " (opens a group chat on the platform)", class_="link")
    if isinstance(element, Choice):
        options = [tag("option", o.label, value=o.value, selected=o.value == element.initial) for o in element.options]
        return tag(
            "form",
            hidden(**where, action_id=element.action_id),
            tag("select", options, name="value", aria_label=element.placeholder),
            tag("button", "Choose", type="submit", disabled=not where["pane"]),
            method="post",
            action="/click",
            class_="choice",
        )
    if element.url:
        return tag("a", element.label, " ↗", href=element.url, target="_blank", rel="noopener noreferrer")
    return tag(
        "form",
        hidden(**where, action_id=element.action_id, value=element.value),
        tag("button", element.label, type="submit", class_=element.style or "plain", disabled=not where["pane"]),
        method="post",
        action="/click",
        class_="button",
    )


def _file(attachment: FileAttachment) -> Html:
    data = f"data:{attachment.mime_type};base64,{attachment.content_b64}"
    if attachment.mime_type.startswith("image/"):
        image = tag("img", src=data, alt=attachment.title or attachment.filename, class_="chart")
        return tag("figure", image, tag("figcaption", attachment.title or attachment.filename))
    return tag("p", "📎 ", tag("a", attachment.filename, href=data, download=attachment.filename), class_="file")


def render_form(
    form: Form, pane: str, token: str, values: Values | None = None, errors: dict[str, str] | None = None
) -> Html:
    """A form to fill in; submitting it goes through the core's form-submit path as the person in ``pane``."""
    values, errors = values or {}, errors or {}
    rows = [_field(f, values.get(f.field_id), errors.get(f.field_id)) for f in form.fields]
    return tag(
        "form",
        tag("h4", "📝 ", form.title),
        tag("p", form.intro, class_="context") if form.intro else None,
        hidden(pane=pane, token=token),
        rows,
        tag(
            "div",
            tag("button", form.submit_label, type="submit", class_="primary"),
            tag("button", "Cancel", type="submit", formaction="/cancel", formnovalidate=True),
            class_="actions",
        ),
        method="post",
        action="/submit",
        class_="bot-form",
    )


def _field(f: FormField, current: str | list[str] | None, error: str | None) -> Html:
    name = f"field.{f.field_id}"
    if isinstance(f, SelectInput):
        chosen = set(current if isinstance(current, list) else [current] if current else list(f.initial))
        blank = [] if f.multiple else [tag("option", "—", value="")]
        options = [tag("option", o.label, value=o.value, selected=o.value in chosen) for o in f.options]
        control = tag("select", blank, options, name=name, multiple=f.multiple)
    elif isinstance(f, RatingInput):
        picked = str(current or (f.initial if f.initial is not None else ""))
        numbers = [str(n) for n in range(f.minimum, f.maximum + 1)]
        options = [tag("option", "—", value="")] + [tag("option", n, value=n, selected=n == picked) for n in numbers]
        control = tag("select", options, name=name)
    else:
        value = current if isinstance(current, str) else f.initial
        common = {"name": name, "placeholder": f.placeholder or None, "maxlength": f.max_length}
        control = (
            tag("textarea", value, rows=3, **common)
            if f.multiline
            else tag("input", type="text", value=value, **common)
        )
    return tag(
        "label",
        tag("span", f.label, "" if f.optional else " *"),
        control,
        tag("span", error, class_="error") if error else None,
        class_="field" + (" invalid" if error else ""),
    )
