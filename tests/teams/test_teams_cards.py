"""Adaptive Card rendering: structure, signed actions, forms, size limit, deep links."""

from __future__ import annotations

import json
import time

from adapters.teams.cards import MAX_CARD_BYTES, CardRenderer, card_size, group_chat_link
from adapters.teams.fitting import CONTINUED, SHORTENED
from adapters.teams.signing import CardSigner
from adapters.teams.translate import BadCardAction, TeamsContext, actor_of, card_action_event
from bot.kernel.messages import (
    Actions,
    Button,
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

SIGNER = CardSigner("test-secret")
R = CardRenderer(SIGNER)
CTX = TeamsContext(
    tenant_id="t",
    user_id="29:u",
    aad_object_id=None,
    user_name="U",
    conversation_id="a:1",
    conversation_type="personal",
    bot_id="28:b",
    service_url="http://x/",
)


def test_message_blocks_render_as_adaptive_card_1_5():
    message = Message(
        summary="Your match",
        blocks=(
            Header(text="Meet Jordan"),
            Section(
                text=Text.of("You and ", Mention(user_id="29:j", name="Jordan"), " both like **chess**."),
                fields=(("Program", "Coffee"),),
            ),
            Divider(),
            Context(text=Text.of("Reply by Friday")),
            Image(url="https://example.com/chart.png", alt="chart"),
            Actions(
                elements=(
                    Button(label="Met", action_id="met", value="m:1", style="primary"),
                    Button(label="Docs", action_id="docs", url="https://example.com"),
                )
            ),
        ),
    )
    card = R.message_card(message)
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5" and card["$schema"].startswith("http")
    types = [b["type"] for b in card["body"]]
    assert types == ["TextBlock", "TextBlock", "FactSet", "TextBlock", "Image", "ActionSet"]
    assert card["body"][1]["text"] == "You and <at>Jordan</at> both like **chess**."
    assert card["msteams"]["entities"] == [
        {"type": "mention", "text": "<at>Jordan</at>", "mentioned": {"id": "29:j", "name": "Jordan"}}
    ]
    assert card["body"][3]["separator"] is True  # the divider
    met, docs = card["body"][5]["actions"]
    assert met["type"] == "Action.Execute" and met["verb"] == "met" and met["style"] == "positive"
    assert SIGNER.open("met", met["data"]) == {"value": "m:1"}
    assert docs == {"type": "Action.OpenUrl", "title": "Docs", "url": "https://example.com"}
    assert card["fallbackText"] == "Your match"


def test_multiline_text_and_code_usage():
    card = R.message_card(Message(summary="h", blocks=(Section(text=Text.of("Commands:\n`join`: join\n\nBye")),)))
    assert [b["text"] for b in card["body"]] == ["Commands:", "**join**: join", "Bye"]
    assert card["body"][1]["spacing"] == "None" and card["body"][2]["spacing"] == "Medium"


def test_group_chat_button_opens_teams_deep_link_and_degrades_without_upns():
    url = group_chat_link(["a@x.example", "b@y.example"], "Coffee: A & B")
    assert (
        url == "https://teams.microsoft.com/l/chat/0/0?users=a@x.example,b@y.example&topicName=Coffee%3A%20A%20%26%20B"
    )
    no_upn = R.message_card(
        Message(
            summary="s", blocks=(Actions(elements=(GroupChatButton(label="Open chat", user_ids=("29:a", "29:b")),)),)
        )
    )
    assert "actions" not in json.dumps(no_upn["body"])
    assert "New chat" in no_upn["body"][0]["text"]


def test_form_renders_inputs_with_validation_and_signed_submit():
    form = Form(
        form_id="profile",
        title="Profile",
        intro="Tell us",
        state="7",
        fields=(
            TextInput(field_id="bio", label="Bio", multiline=True, max_length=300),
            SelectInput(
                field_id="skills",
                label="Skills",
                multiple=True,
                initial=("py",),
                options=(Option(label="Python", value="py"), Option(label="Go", value="go")),
            ),
            RatingInput(field_id="mood", label="Mood", optional=True),
        ),
    )
    card = R.form_card(form, ref="f1")
    bio, skills, mood = (b for b in card["body"] if b["type"].startswith("Input."))
    assert bio == {
        "type": "Input.Text",
        "id": "bio",
        "label": "Bio",
        "placeholder": "",
        "isMultiline": True,
        "maxLength": 300,
        "isRequired": True,
        "errorMessage": "Please fill in “Bio”.",
    }
    assert skills["isMultiSelect"] is True and skills["value"] == "py"
    assert [c["value"] for c in mood["choices"]] == ["1", "2", "3", "4", "5"] and "isRequired" not in mood
    submit = card["actions"][0]
    assert submit["verb"] == "form:profile" and submit["associatedInputs"] == "auto"
    payload = SIGNER.open("form:profile", submit["data"])
    assert payload == {"state": "7", "multi": ["skills"], "ref": "f1"}  # a reference, not the form


def test_a_long_option_list_is_searched_as_one_types():
    options = tuple(Option(label=f"Person {n:03}", value=f"u{n}") for n in range(150))
    form = Form(
        form_id="pick",
        title="Pick",
        fields=(SelectInput(field_id="who", label="Who", options=options, initial=("u120",)),),
    )
    card = R.form_card(form, ref="k1")
    [who] = (b for b in card["body"] if b["type"] == "Input.ChoiceSet")
    assert who["choices.data"] == {"type": "Data.Query", "dataset": "k1/who"}
    assert who["style"] == "filtered" and "150" in who["placeholder"]
    assert who["choices"][0] == {"title": "Person 120", "value": "u120"} and len(who["choices"]) == 15
    assert who["value"] == "u120"
    assert card_size(card) < 6_000


def test_a_form_without_fields_says_what_to_do():
    card = R.form_card(Form(form_id="ok", title="Confirm", submit_label="Go", fields=()), ref="k")
    assert "press Go" in card["body"][-1]["text"]


def test_form_submission_translation_and_tampering():
    form = Form(form_id="f", title="F", state="s1", fields=(TextInput(field_id="a", label="A"),))
    action = R.form_card(form, ref="f1")["actions"][0]
    raw = {
        "id": "x",
        "value": {
            "action": {"type": "Action.Execute", "verb": action["verb"], "data": {**action["data"], "a": " hello "}}
        },
    }
    event, _ = card_action_event(raw, CTX, actor_of(CTX), SIGNER)
    assert event.form_id == "f" and event.values == {"a": "hello"} and event.state == "s1"
    raw["value"]["action"]["data"]["_tandem"]["state"] = "s2"
    try:
        card_action_event(raw, CTX, actor_of(CTX), SIGNER)
    except BadCardAction:
        pass
    else:  # pragma: no cover
        raise AssertionError("tampered state accepted")
    raw["value"]["action"]["data"] = {**action["data"], "a": {"nested": "object"}}
    try:
        card_action_event(raw, CTX, actor_of(CTX), SIGNER)
    except BadCardAction:
        pass
    else:  # pragma: no cover
        raise AssertionError("non-text field accepted")


def test_another_deployments_signature_is_refused():
    other = CardRenderer(CardSigner("other-secret"))
    action = other.message_card(
        Message(summary="s", blocks=(Actions(elements=(Button(label="x", action_id="x", value="1"),)),))
    )["body"][0]["actions"][0]
    raw = {"value": {"action": {"type": "Action.Execute", "verb": "x", "data": action["data"]}}}
    try:
        card_action_event(raw, CTX, actor_of(CTX), SIGNER)
    except BadCardAction:
        return
    raise AssertionError("foreign signature accepted")  # pragma: no cover


def test_huge_message_continues_in_more_cards_each_under_the_teams_limit():
    long = "word " * 20_000
    message = Message(
        summary="big", blocks=(Header(text="Report"), Section(text=Text.of(long)), Section(text=Text.of("tail")))
    )
    cards = R.message_cards(message)
    assert len(cards) > 1 and all(card_size(card) <= MAX_CARD_BYTES for card in cards)
    assert cards[0]["body"][0]["text"] == "Report"
    assert all(card["body"][-1]["text"] == CONTINUED for card in cards[:-1])
    words = [w for card in cards for b in card["body"] if b["text"] != CONTINUED for w in b["text"].split()]
    assert words == ["Report", *long.split(), "tail"]  # nothing lost


def test_one_card_alone_says_it_was_shortened():
    blocks = tuple(Section(text=Text.of(f"line {n} " + "x" * 150)) for n in range(400))
    card = R.message_card(Message(summary="many", blocks=blocks))
    assert card_size(card) <= MAX_CARD_BYTES
    assert card["body"][-1]["text"] == SHORTENED
    assert card["body"][0]["text"].startswith("line 0")


def test_long_lines_that_never_fit_the_old_trimming_end_quickly():
    """100 programs listed with lines of 266-509 characters once made the fitter loop forever."""
    lines = [f"**Program {n}** " + "a long description " * (14 + n % 14) for n in range(100)]
    started = time.perf_counter()
    cards = R.message_cards(Message(summary="Programs", blocks=(Section(text=Text.of("\n".join(lines))),)))
    assert time.perf_counter() - started < 2
    assert all(card_size(card) <= MAX_CARD_BYTES for card in cards)
    shown = "\n".join(b["text"] for card in cards for b in card["body"])
    assert all(f"Program {n}**" in shown for n in range(100))


def test_thirty_buttons_go_in_rows_of_five_within_the_limit():
    buttons = tuple(Button(label=f"Option {n}", action_id="pick", value=f"{n}|" + "v" * 400) for n in range(30))
    cards = R.message_cards(Message(summary="Pick", blocks=(Actions(elements=buttons),)))
    rows = [b for card in cards for b in card["body"] if b["type"] == "ActionSet"]
    assert [len(r["actions"]) for r in rows] == [5] * 6
    assert all(card_size(card) <= MAX_CARD_BYTES for card in cards)


def test_two_people_with_the_same_name_get_distinct_mentions():
    text = Text.of(Mention(user_id="29:a", name="Alex Kim"), " and ", Mention(user_id="29:b", name="Alex Kim"))
    card = R.message_card(Message(summary="s", blocks=(Section(text=text),)))
    assert card["body"][0]["text"] == "<at>Alex Kim</at> and <at>Alex Kim (2)</at>"
    entities = card["msteams"]["entities"]
    assert [(e["text"], e["mentioned"]["id"]) for e in entities] == [
        ("<at>Alex Kim</at>", "29:a"),
        ("<at>Alex Kim (2)</at>", "29:b"),
    ]
