"""Block Kit rendering stays inside Slack's limits: split or trimmed, never rejected."""

from __future__ import annotations

from adapters.slack import render
from adapters.slack.pacing import Pacer, RateLimits, TokenBucket
from adapters.slack.translate import action_value
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
    Mention,
    Message,
    Option,
    RatingInput,
    Section,
    SelectInput,
    Text,
    TextInput,
)


def all_blocks(message: Message) -> list[dict]:
    return [b for chunk in render.render_message(message).chunks for b in chunk]


def test_mentions_bold_and_escaping() -> None:
    text = Text.of("**Hi** ", Mention(user_id="U123", name="Ada"), " & <friends> _soon_")
    assert render.mrkdwn(text) == "*Hi* <@U123> &amp; &lt;friends&gt; _soon_"


def test_header_button_option_and_placeholder_lengths_are_trimmed() -> None:
    long = "x" * 500
    msg = Message(
        summary="s",
        blocks=(
            Header(text=long),
            Actions(
                elements=(
                    Button(label=long, action_id="a", value="v"),
                    Choice(
                        action_id="c",
                        placeholder=long,
                        options=tuple(Option(label=long, value=str(i)) for i in range(150)),
                    ),
                )
            ),
        ),
    )
    header, actions = all_blocks(msg)
    assert len(header["text"]["text"]) == 150 and header["text"]["text"].endswith("…")
    button, select = actions["elements"]
    assert len(button["text"]["text"]) == 75
    assert len(select["placeholder"]["text"]) == 150
    groups = select["option_groups"]  # over Slack's 100 options: groups of 100, nothing cut off
    options = [o for g in groups for o in g["options"]]
    assert [len(g["options"]) for g in groups] == [100, 50]
    assert len(options) == 150 and all(len(o["text"]["text"]) <= 75 for o in options)


def test_long_sections_are_split_at_3000_characters() -> None:
    paragraph = ("word " * 400).strip()
    msg = Message(summary="s", blocks=(Section(text=Text.of("\n\n".join([paragraph] * 5))),))
    blocks = all_blocks(msg)
    assert len(blocks) > 1
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks)
    assert sum(len(b["text"]["text"].split()) for b in blocks) == 400 * 5


def test_more_than_50_blocks_become_several_messages_or_a_note() -> None:
    msg = Message(summary="s", blocks=tuple(Divider() for _ in range(130)))
    assert [len(c) for c in render.render_message(msg).chunks] == [50, 50, 30]
    single = render.render_single(msg).blocks
    assert len(single) == 50 and "81 more" in single[-1]["elements"][0]["text"]
    assert len(render.home_view(msg)["blocks"]) == 100


def test_more_than_25_buttons_are_split_and_shared_action_ids_made_unique() -> None:
    buttons = tuple(Button(label=str(n), action_id="rate", value=str(n)) for n in range(30))
    blocks = all_blocks(Message(summary="s", blocks=(Actions(elements=buttons),)))
    assert [len(b["elements"]) for b in blocks] == [25, 5]
    ids = [e["action_id"] for e in blocks[0]["elements"]]
    assert len(set(ids)) == 25
    assert {render.neutral_action_id(i) for i in ids} == {"rate"}
    assert render.neutral_action_id("plain~~x") == "plain~~x"


def test_section_fields_context_image_and_group_chat() -> None:
    msg = Message(
        summary="s",
        blocks=(
            Section(text=Text.of("Stats"), fields=tuple((f"k{i}", "v" * 3000) for i in range(12))),
            Context(text=Text.of("small print")),
            Image(url="https://example.com/chart.png", alt=""),
            Actions(elements=(GroupChatButton(label="Chat", user_ids=("U1", "U2")),)),
        ),
    )
    first, second, context, image, mentions = all_blocks(msg)
    assert len(first["fields"]) == 10 and len(second["fields"]) == 2
    assert all(len(f["text"]) <= 2000 for f in first["fields"])
    assert context["type"] == "context" and image["alt_text"] == "image"
    assert mentions["elements"][0]["text"] == "<@U1>, <@U2>"


def test_form_becomes_a_modal() -> None:
    form = Form(
        form_id="survey",
        title="How was your coffee chat this week?",
        submit_label="Send",
        state="42|q1",
        intro="**Quick** one",
        fields=(
            TextInput(field_id="note", label="Anything else?", multiline=True, optional=True, max_length=9999),
            SelectInput(
                field_id="topics",
                label="Topics",
                multiple=True,
                initial=("b",),
                options=(Option(label="A", value="a"), Option(label="B", value="b")),
            ),
            RatingInput(field_id="stars", label="Rating", initial=4),
            RatingInput(field_id="nps", label="Recommend?", minimum=0, maximum=10),
        ),
    )
    view = render.render_form(form)
    assert view["callback_id"] == "survey" and view["private_metadata"] == "42|q1"
    assert len(view["title"]["text"]) <= 24
    intro, note, topics, stars, nps = view["blocks"]
    assert intro["text"]["text"] == "*Quick* one"
    assert note["block_id"] == "note" and note["optional"] and note["element"]["max_length"] == 3000
    assert topics["element"]["type"] == "multi_static_select"
    assert topics["element"]["initial_options"][0]["value"] == "b"
    assert stars["element"]["type"] == "radio_buttons" and stars["element"]["initial_option"]["value"] == "4"
    assert nps["element"]["type"] == "static_select" and len(nps["element"]["options"]) == 11


def test_form_values_from_view_state(conformance) -> None:  # noqa: ANN001
    from tests.slack.slack_support import load

    rich = load("interactivity/view_submission_rich_state.json")
    values = render.form_values(rich["view"]["state"]["values"])
    assert values and all(isinstance(v, str | list) or v is None for v in values.values())
    simple = load("interactivity/view_submission.json")
    assert render.form_values(simple["view"]["state"]["values"]) == {"hspI": "test"}


def test_action_values_for_buttons_and_selects(conformance) -> None:  # noqa: ANN001
    from tests.slack.slack_support import load

    assert action_value(load("interactivity/block_actions_button.json")["actions"][0]) == "click_me_123"
    assert action_value(load("interactivity/block_actions_static_select.json")["actions"][0]) == "value-0"


def test_token_bucket_spaces_calls_after_a_burst() -> None:
    bucket = TokenBucket(rate=2.0, burst=3)
    waits = [bucket.reserve(now=100.0) for _ in range(5)]
    assert waits == [0.0, 0.0, 0.0, 0.5, 1.0]
    assert bucket.reserve(now=110.0) == 0.0  # refilled after a quiet spell


def test_documented_rates_per_method() -> None:
    limits = RateLimits()
    assert limits.per_minute("conversations.open") == 50  # Tier 3
    assert limits.per_minute("users.info") == 100  # Tier 4
    assert limits.per_minute("chat.postMessage") == 300
    assert RateLimits(per_method={"chat.postMessage": 6000}).per_minute("chat.postMessage") == 6000


async def test_pacer_waits_per_channel_for_posts(monkeypatch) -> None:  # noqa: ANN001
    """Deterministic: the pacer's clock is frozen and its sleeps are recorded, not slept."""
    import adapters.slack.pacing as pacing

    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(pacing.time, "monotonic", lambda: 100.0)
    monkeypatch.setattr(pacing.asyncio, "sleep", fake_sleep)
    pacer = Pacer(RateLimits(post_per_minute=60_000, post_per_channel_per_second=1.0))
    assert await pacer.wait("T1", "chat.postMessage", "C1") == 0.0
    assert await pacer.wait("T1", "chat.postMessage", "C2") == 0.0  # another channel: no wait
    assert await pacer.wait("T1", "chat.postMessage", "C1") == 1.0  # same channel: one second later
    assert await pacer.wait("T2", "chat.postMessage", "C1") == 0.0  # another workspace
    assert slept == [1.0]
    assert await Pacer(RateLimits(enabled=False)).wait("T1", "chat.postMessage", "C1") == 0.0


def test_manifests_match_what_the_adapter_needs() -> None:
    from pathlib import Path

    import yaml

    from adapters.slack.config import BOT_SCOPES

    root = Path(__file__).resolve().parents[2] / "adapters" / "slack" / "manifest"
    for name, socket in (("slack.yaml", False), ("slack-socket-mode.yaml", True)):
        manifest = yaml.safe_load((root / name).read_text())
        assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(BOT_SCOPES)
        assert "files:read" in BOT_SCOPES  # participant CSVs sent to the bot are downloaded with the bot token
        assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {
            "app_home_opened",
            "app_mention",
            "app_uninstalled",
            "member_joined_channel",
            "member_left_channel",
            "message.im",
            "tokens_revoked",
        }
        assert manifest["features"]["slash_commands"][0]["command"] == "/tandem"
        assert manifest["settings"]["socket_mode_enabled"] is socket
        assert manifest["features"]["app_home"]["home_tab_enabled"] is True
        if not socket:
            assert manifest["settings"]["event_subscriptions"]["request_url"] == "https://YOUR-TANDEM-HOST/slack/events"
            assert manifest["settings"]["interactivity"]["request_url"].endswith("/slack/events")
