"""Slack payloads → neutral events: readable text with structured mentions, and each delivery's id."""

from __future__ import annotations

import copy
from typing import Any

from adapters.slack import translate
from bot.kernel.events import ChannelRef, CommandEvent, DirectMessageEvent, Event, MentionRef, Response
from tests.slack.slack_support import form_request, load, slash_command

WHO = translate.actor("T111", "U222")


def test_markup_becomes_readable_text_and_each_mention_is_listed_with_its_exact_text() -> None:
    text, mentions, channels = translate.readable(
        "avoid <@U123|bob> and <@W456> in <#C789|general> or <#C000> &amp; &lt;3", {"W456": "Ana Lima"}
    )
    assert text == "avoid @bob and @Ana Lima in #general or #C000 & <3"
    assert mentions == (MentionRef(user_id="U123", text="@bob"), MentionRef(user_id="W456", text="@Ana Lima"))
    assert channels == (ChannelRef(channel_id="C789", text="#general"), ChannelRef(channel_id="C000", text="#C000"))
    assert all(ref.text in text for ref in (*mentions, *channels))


def test_a_person_without_a_known_name_shows_as_their_id_and_links_stay() -> None:
    text, mentions, channels = translate.readable("hi <@U999> see <https://example.com|docs> <!here>")
    assert text == "hi @U999 see <https://example.com|docs> <!here>"
    assert mentions == (MentionRef(user_id="U999", text="@U999"),) and channels == ()
    assert translate.mentioned_ids("<@U1> <@U2|two> <@U1>") == ["U1"]


def test_a_slash_command_with_a_user_and_a_channel_mention() -> None:
    body = {
        "text": " avoid <@U123|bob> in <#C789|mentoring> ",
        "channel_id": "C111",
        "trigger_id": "13345224609.738474920.8088930838d88f008e0",
    }
    event = translate.command_event(body, WHO)
    assert event.text == "avoid @bob in #mentoring"
    assert event.mentions == (MentionRef(user_id="U123", text="@bob"),)
    assert event.channels == (ChannelRef(channel_id="C789", text="#mentoring"),)
    assert event.event_id == "trigger:13345224609.738474920.8088930838d88f008e0"
    assert "<" not in event.text


def test_a_direct_message_names_its_delivery_and_mentions() -> None:
    event = translate.direct_message_event(
        {"text": "avoid <@U123>", "channel": "D1"}, WHO, "Ev42", {"U123": "Bob Smith"}
    )
    assert event.text == "avoid @Bob Smith" and event.mentions == (MentionRef("U123", "@Bob Smith"),)
    assert event.event_id == "Ev42" and event.place.is_direct


def test_member_and_form_events_carry_their_ids() -> None:
    body = {"event_id": "Ev7", "event": {"channel": "C1"}}
    assert translate.event_id_of(body) == "Ev7" and translate.event_id_of({}) is None
    assert translate.member_joined(body["event"], WHO, "Ev7").event_id == "Ev7"
    assert translate.member_left(body["event"], WHO, "Ev7").event_id == "Ev7"
    form = translate.form_event({"trigger_id": "t1", "view": {"callback_id": "profile"}}, WHO)
    assert form.event_id == "trigger:t1"
    assert translate.form_event({"view": {}}, WHO).event_id is None


def recorder(harness) -> list[Event]:  # noqa: ANN001
    """Record what the adapter hands the core (and still let the core answer)."""
    seen: list[Event] = []
    real = harness.core.handle

    async def handle(event: Event) -> Response:
        seen.append(event)
        return await real(event)

    harness.core.handle = handle
    return seen


async def test_over_http_a_command_reaches_the_core_without_markup(harness) -> None:  # noqa: ANN001
    seen = recorder(harness)
    fields = slash_command(
        "avoid <@W111|primary-owner> <#C111|coffee>",
        user="U222",
        channel="C111",
        response_url=harness.fake.hook_url("cmd"),
    )
    assert (await harness.post(*form_request(fields))).status == 200
    await harness.settle()
    [event] = seen
    assert isinstance(event, CommandEvent)
    assert event.text == "avoid @primary-owner #coffee"
    assert event.mentions == (MentionRef("W111", "@primary-owner"),)
    assert event.channels == (ChannelRef("C111", "#coffee"),)
    assert event.event_id == f"trigger:{fields['trigger_id']}"


async def test_over_http_a_dm_mention_gets_the_persons_display_name(harness, conformance) -> None:  # noqa: ANN001
    seen = recorder(harness)
    payload: dict[str, Any] = copy.deepcopy(load("events/event_callback_message_im.json"))
    payload["event"]["text"] = "avoid <@W111>"
    assert (await harness.event(payload)).status == 200
    assert (await harness.event(payload, **{"X-Slack-Retry-Num": "1"})).status == 200  # Slack's retry: same id
    await harness.settle()
    first, retry = seen
    assert isinstance(first, DirectMessageEvent) and first == retry
    assert first.text == "avoid @name-W111" and first.mentions == (MentionRef("W111", "@name-W111"),)
    assert first.event_id == payload["event_id"]
    assert len(harness.fake.called("chat.postMessage")) == 1  # the core answered the retry with NoReply
