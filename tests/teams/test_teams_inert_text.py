"""Names that try to become links, mentions or reversed text stay plain on an Adaptive Card."""

from __future__ import annotations

import json

from adapters.slack.render import render_message
from adapters.teams.cards import CardRenderer
from adapters.teams.signing import CardSigner
from bot.kernel.events import Actor, CommandEvent, FormSubmittedEvent, MentionRef
from bot.kernel.messages import Mention, text_message

HOSTILE = "[click](https://evil.example) <at>Everyone</at> \x1b[31m\x07 \u202eeman"


def test_a_card_shows_a_hostile_name_as_typed_without_markup_or_controls() -> None:
    card = CardRenderer(CardSigner("s")).message_card(
        text_message(f"Welcome {HOSTILE}!", Mention(user_id="29:x", name="Bo"))
    )
    dumped = json.dumps(card, ensure_ascii=False)
    assert "](https://evil" not in dumped and "](" not in dumped.replace("]\u2060(", "")
    assert "<at>Everyone</at>" not in dumped
    assert "<at>Bo</at>" in dumped  # a real mention still works
    for bad in ("\x1b", "\x07", "\u202e"):
        assert bad not in dumped
    assert "click" in dumped and "Everyone" in dumped


def test_slack_notification_text_is_escaped_like_blocks() -> None:
    rendered = render_message(text_message("Hi <!here> & <https://evil|x> \x07"))
    assert rendered.text == "Hi &lt;!here&gt; &amp; &lt;https://evil|x&gt; "


def test_an_actor_is_bounded_once_whatever_the_platform_sent() -> None:
    who = Actor(
        "teams", "t", "u", name="N" * 5000 + "\x1b", email="a" * 400 + "@x.io", timezone="Europe/" + "x" * 10_000
    )
    assert who.name == "N" * 200 and who.email is None and who.timezone is None
    event = CommandEvent(
        actor=who, text="avoid @B\u202eob\x07 now", mentions=(MentionRef(user_id="U1", text="@B\u202eob"),)
    )
    assert event.text == "avoid @Bob now" and event.mentions[0].text in event.text


def test_form_values_are_bounded_and_cleaned() -> None:
    who = Actor("slack", "T1", "U1")
    form = FormSubmittedEvent(
        actor=who, form_id="profile", values={"a": "x" * 10_000 + "\x07", "b": ["\u202ey"] * 500, "c": None}
    )
    assert form.values["a"] == "x" * 3000
    assert form.values["b"] == ["y"] * 100 and form.values["c"] is None
