"""Teams activities → neutral events: people's @mentions as plain text plus fields, and each delivery's id."""

from __future__ import annotations

from typing import Any

from adapters.teams.translate import activity_id, actor_of, context_of, membership_events, readable
from bot.kernel.events import CommandEvent, MemberJoinedEvent, MentionRef
from tests.teams.teams_harness import Harness

BOT = "28:bot"


def activity(text: str, *mentions: tuple[str, str], **extra: Any) -> dict[str, Any]:
    """A channel message as Teams sends it: ``<at>`` tags in the text, one mention entity per tag."""
    return {
        "type": "message",
        "id": "1700000000001",
        "text": text,
        "serviceUrl": "https://smba.example/",
        "from": {"id": "29:alex", "name": "Alex"},
        "recipient": {"id": BOT, "name": "Tandem"},
        "conversation": {"id": "19:chan@thread.tacv2;messageid=1700000000000", "conversationType": "channel"},
        "channelData": {"tenant": {"id": "tenant-1"}, "channel": {"id": "19:chan@thread.tacv2"}},
        "entities": [
            {"type": "mention", "text": f"<at>{name}</at>", "mentioned": {"id": who, "name": name}}
            for who, name in mentions
        ],
        **extra,
    }


def test_the_bots_mention_goes_and_a_persons_becomes_plain_text_with_a_ref() -> None:
    raw = activity(
        "<at>Tandem</at> avoid <at>Jordan Lee</at>&nbsp;please", (BOT, "Tandem"), ("29:jordan", "Jordan Lee")
    )
    text, mentions = readable(raw)
    assert text == "avoid @Jordan Lee please"
    assert mentions == (MentionRef(user_id="29:jordan", text="@Jordan Lee"),)
    assert "<" not in text and "29:" not in text  # no Slack-like markup any more


def test_several_people_in_text_order_and_entities_escaped() -> None:
    raw = activity(
        "<p><at>Tandem</at> pair <at>Sam</at> &amp; <at>Jordan</at></p>",
        (BOT, "Tandem"),
        ("29:jordan", "Jordan"),
        ("29:sam", "Sam"),
    )
    text, mentions = readable(raw)
    assert text == "pair @Sam & @Jordan"
    assert [m.user_id for m in mentions] == ["29:sam", "29:jordan"]
    assert all(m.text in text for m in mentions)


def test_a_mention_without_an_entity_is_plain_text_only() -> None:
    text, mentions = readable(activity("<at>Tandem</at> hi <at>Nobody</at>", (BOT, "Tandem")))
    assert (text, mentions) == ("hi @Nobody", ())


def test_ids_are_scoped_to_the_conversation_and_tell_members_and_channels_apart() -> None:
    raw = activity("", membersAdded=[{"id": "29:new", "name": "Nia"}], type="conversationUpdate")
    ctx = context_of(raw)
    assert activity_id(raw, ctx) == "19:chan@thread.tacv2;messageid=1700000000000:1700000000001"
    assert activity_id({**raw, "id": None}, ctx) is None
    events = membership_events(raw, ctx, actor_of(ctx), channels=["19:other@thread.tacv2"])
    assert all(isinstance(e, MemberJoinedEvent) for e in events) and len(events) == 2
    assert len({e.event_id for e in events}) == 2


async def test_a_channel_mention_of_another_person_reaches_the_core_as_fields(db, tmp_path):  # noqa: ANN001
    async with Harness(db, tmp_path) as h:
        raw = h.activity("message_channel_mention")
        bot = raw["recipient"]
        raw["text"] = f"<at>{bot['name']}</at> avoid <at>Jordan Lee</at>"
        raw["entities"] = [
            {"type": "mention", "text": f"<at>{bot['name']}</at>", "mentioned": bot},
            {"type": "mention", "text": "<at>Jordan Lee</at>", "mentioned": {"id": "29:jordan", "name": "Jordan Lee"}},
        ]
        assert (await h.post(raw))[0] == 201
        [event] = h.core.events
        assert isinstance(event, CommandEvent)
        assert event.text == "avoid @Jordan Lee"
        assert event.mentions == (MentionRef(user_id="29:jordan", text="@Jordan Lee"),)
        assert event.event_id == f"{raw['conversation']['id']}:{raw['id']}"
