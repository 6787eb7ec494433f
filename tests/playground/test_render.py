"""Neutral messages and forms as HTML: every button is a form carrying its action id and value, drop-downs
are <select>s, files are images or downloads, and nothing typed by a person ever becomes markup."""

from __future__ import annotations

import base64
from html.parser import HTMLParser

from bot.kernel.messages import (
    Actions,
    Button,
    Choice,
    FileAttachment,
    Form,
    GroupChatButton,
    Mention,
    Message,
    Option,
    RatingInput,
    Section,
    SelectInput,
    Text,
    TextInput,
)
from tandem.playground.html import tag
from tandem.playground.render import render_form, render_message

EVIL = '<script>alert("x")</script> & "quotes"'


class Tags(HTMLParser):
    """The start tags and their attributes, as a browser's parser reads them."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text = ""
        self.feed(html)

    def handle_starttag(self, name: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((name, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text += data

    def named(self, name: str) -> list[dict[str, str | None]]:
        return [attrs for tag_name, attrs in self.tags if tag_name == name]


def test_typed_text_and_names_are_escaped_everywhere() -> None:
    message = Message(
        summary="s",
        blocks=(
            Section(text=Text.of(f"**{EVIL}** met ", Mention(user_id="U1", name=EVIL)), fields=((EVIL, EVIL),)),
            Actions(elements=(Button(label=EVIL, action_id="a", value=EVIL),)),
        ),
    )
    html = render_message(message, pane='U1"><b>', message_id="m1", token="t")
    parsed = Tags(html)
    assert not parsed.named("script") and not parsed.named("b")
    assert parsed.text.count('<script>alert("x")</script>') == 5  # bold text, mention, field, value, label
    assert {"name": "pane", "value": 'U1"><b>', "type": "hidden"}.items() <= parsed.named("input")[0].items()
    assert "<strong>" in html  # the core's own markup still works


def test_buttons_carry_action_and_value_and_choices_are_selects() -> None:
    message = Message(
        summary="s",
        blocks=(
            Actions(
                elements=(
                    Button(label="Join", action_id="program:join", value="7", style="primary"),
                    Button(label="Docs", action_id="x", url="https://example.org/docs"),
                    GroupChatButton(label="Open chat", user_ids=("U1", "U2")),
                    Choice(action_id="pick", placeholder="When?", options=(Option(label="Mon", value="1"),)),
                )
            ),
        ),
    )
    parsed = Tags(render_message(message, pane="U1", message_id="m9", token="tok"))
    forms = parsed.named("form")
    assert [f["action"] for f in forms] == ["/click", "/click"] and all(f["method"] == "post" for f in forms)
    hidden = {(i["name"], i["value"]) for i in parsed.named("input")}
    assert {("action_id", "program:join"), ("value", "7"), ("message", "m9"), ("token", "tok")} <= hidden
    assert ("action_id", "pick") in hidden and parsed.named("select")[0]["name"] == "value"
    assert parsed.named("option")[0]["value"] == "1"
    link = parsed.named("a")[0]
    assert link["href"] == "https://example.org/docs" and link["rel"] == "noopener noreferrer"


def test_read_only_panes_draw_buttons_nobody_can_click() -> None:
    message = Message(summary="s", blocks=(Actions(elements=(Button(label="Go", action_id="a"),)),))
    assert "disabled" in Tags(render_message(message, pane="", message_id="m1", token="t")).named("button")[0]


def test_an_image_file_is_shown_and_other_files_download() -> None:
    png = base64.b64encode(b"\x89PNG fake").decode()
    message = Message(
        summary="s",
        files=(
            FileAttachment(filename="chart.png", mime_type="image/png", content_b64=png, title=EVIL),
            FileAttachment(filename="me.json", mime_type="application/json", content_b64="e30="),
        ),
    )
    parsed = Tags(render_message(message, pane="U1", message_id="m1", token="t"))
    image = parsed.named("img")[0]
    assert image["src"] == f"data:image/png;base64,{png}" and image["alt"] == EVIL
    download = parsed.named("a")[0]
    assert download["download"] == "me.json" and (download["href"] or "").startswith("data:application/json")


def test_a_form_has_every_kind_of_field_with_its_values_and_errors() -> None:
    form = Form(
        form_id="profile",
        title=EVIL,
        fields=(
            TextInput(field_id="about", label="About", multiline=True, initial="hi"),
            TextInput(field_id="skills", label="Skills", optional=True),
            SelectInput(
                field_id="topics",
                label="Topics",
                multiple=True,
                options=(Option(label="A", value="a"), Option(label="B", value="b")),
            ),
            RatingInput(field_id="pulse", label="Pulse", minimum=1, maximum=5),
        ),
    )
    html = render_form(form, "U1", "tok", values={"skills": EVIL, "topics": ["b"]}, errors={"pulse": "Pick one"})
    parsed = Tags(html)
    assert not parsed.named("script")
    assert parsed.named("form")[0]["action"] == "/submit"
    assert parsed.named("textarea")[0]["name"] == "field.about"
    skills = next(i for i in parsed.named("input") if i["name"] == "field.skills")
    assert skills["value"] == EVIL
    topics, pulse = parsed.named("select")
    assert "multiple" in topics and topics["name"] == "field.topics"
    selected = [o["value"] for o in parsed.named("option") if "selected" in o]
    assert selected == ["b"]
    assert pulse["name"] == "field.pulse" and "Pick one" in parsed.text
    cancel = [b for b in parsed.named("button") if b.get("formaction") == "/cancel"]
    assert len(cancel) == 1


def test_attribute_names_and_void_elements() -> None:
    assert tag("input", type="text", data_pane="x", disabled=True, hidden=None) == (
        '<input type="text" data-pane="x" disabled>'
    )
    assert tag("p", "a", None, ["b", tag("i", "c")], class_="k") == '<p class="k">ab<i>c</i></p>'
