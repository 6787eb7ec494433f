"""Card actions (adaptiveCard/action invokes): clicks and form submissions replace the card."""

from __future__ import annotations

import copy

from bot.kernel.events import ActionEvent, FormErrors, FormSubmittedEvent, NoReply, Reply
from bot.kernel.messages import (
    Actions,
    Button,
    Choice,
    Form,
    Message,
    Option,
    RatingInput,
    SelectInput,
    TextInput,
    text_message,
)
from storage.tables import ConversationAddress, ProcessedEvent, User, Workspace
from tests.teams.teams_harness import Harness

TENANT = "56653e9d-2158-46ee-90d7-675c39642038"  # the invoke fixture's tenant
SURVEY = Form(
    form_id="survey",
    title="How was your chat?",
    state="match:42",
    fields=(
        RatingInput(field_id="rating", label="Rating"),
        SelectInput(
            field_id="topics",
            label="Topics",
            multiple=True,
            options=(Option(label="Career", value="career"), Option(label="Tech", value="tech")),
        ),
        TextInput(field_id="note", label="Anything else?", optional=True),
    ),
)


def invoke(h: Harness, action: dict, **inputs) -> dict:
    raw = h.activity("invoke_adaptiveCard_action_execute")
    data = copy.deepcopy(action.get("data") or {})
    data.update(inputs)
    raw["value"]["action"] = {
        "type": "Action.Execute",
        "title": action.get("title", ""),
        "verb": action.get("verb"),
        "data": data,
    }
    return raw


def first_execute(card: dict) -> dict:
    for element in card["body"]:
        for inner in element.get("items", [element]):  # a drop-down and its OK button share a Container
            if inner.get("type") == "ActionSet":
                return inner["actions"][0]
    return card["actions"][0]


async def test_button_click_reaches_core_and_card_is_replaced(db, tmp_path):
    message = Message(
        summary="Did you meet?",
        blocks=(Actions(elements=(Button(label="Yes", action_id="met.yes", value="match:7", style="primary"),)),),
    )
    async with Harness(db, tmp_path) as h:
        h.core.answer = lambda event: Reply(message=text_message("Great, noted!"), replace_original=True)
        action = first_execute(h.runtime.renderer.message_card(message))
        raw = invoke(h, action)
        status, body = await h.post(raw)
        assert status == 200
        assert body["statusCode"] == 200 and body["type"] == "application/vnd.microsoft.card.adaptive"
        assert body["value"]["body"][0]["text"] == "Great, noted!"
        [event] = h.core.events
        assert isinstance(event, ActionEvent)
        assert (event.action_id, event.value) == ("met.yes", "match:7")
        assert event.event_id == f"{raw['conversation']['id']}:{raw['id']}"  # ids are unique per conversation
        assert event.message.message_id == "1767765488332"
        assert event.actor.timezone == "America/Los_Angeles"


async def test_choice_pick_sends_the_chosen_value(db, tmp_path):
    message = Message(
        summary="Pause",
        blocks=(
            Actions(
                elements=(
                    Choice(
                        action_id="pause.weeks",
                        placeholder="How long?",
                        options=(Option(label="1 week", value="1"), Option(label="2 weeks", value="2")),
                    ),
                )
            ),
        ),
    )
    async with Harness(db, tmp_path) as h:
        card = h.runtime.renderer.message_card(message)
        action = first_execute(card)
        status, body = await h.post(invoke(h, action, **{card["body"][0]["items"][0]["id"]: "2"}))
        assert status == 200 and body["type"] == "application/vnd.microsoft.activity.message"
        [event] = h.core.events
        assert (event.action_id, event.value) == ("pause.weeks", "2")


async def test_form_submission_turns_into_its_answered_state(db, tmp_path):
    async with Harness(db, tmp_path) as h:
        h.core.answer = lambda event: NoReply()
        action = (await h.runtime.bot.form_card(TENANT, SURVEY))["actions"][0]
        status, body = await h.post(invoke(h, action, rating="4", topics="career,tech", note=""))
        assert status == 200
        [event] = h.core.events
        assert isinstance(event, FormSubmittedEvent)
        assert event.form_id == "survey" and event.state == "match:42"
        assert event.values == {"rating": "4", "topics": ["career", "tech"], "note": None}
        card = body["value"]
        assert "How was your chat?" in card["body"][0]["text"]
        facts = {f["title"]: f["value"] for f in card["body"][1]["facts"]}
        assert facts == {"Rating": "4", "Topics": "Career, Tech", "Anything else?": "—"}
        assert "actions" not in card  # the answered card cannot be submitted again


async def test_form_errors_re_render_the_form_with_the_answers_kept(db, tmp_path):
    async with Harness(db, tmp_path) as h:
        h.core.answer = lambda event: FormErrors(errors={"rating": "Pick a number from 1 to 5."})
        action = (await h.runtime.bot.form_card(TENANT, SURVEY))["actions"][0]
        status, body = await h.post(invoke(h, action, rating="", topics="tech", note="hi"))
        assert status == 200
        card = body["value"]
        texts = [b.get("text") for b in card["body"]]
        assert "Pick a number from 1 to 5." in texts
        note = next(b for b in card["body"] if b.get("id") == "note")
        assert note["value"] == "hi"
        assert card["actions"][0]["verb"] == "form:survey"


async def _nothing_written(h: Harness) -> None:
    assert h.core.events == []
    for table in (ConversationAddress, User, Workspace, ProcessedEvent):
        assert await h.count(table) == 0


async def test_tampered_value_is_refused_with_400(db, tmp_path):
    message = Message(
        summary="x", blocks=(Actions(elements=(Button(label="Leave", action_id="leave", value="program:1"),)),)
    )
    async with Harness(db, tmp_path) as h:
        action = first_execute(h.runtime.renderer.message_card(message))
        action["data"]["_tandem"]["value"] = "program:2"
        status, body = await h.post(invoke(h, action))
        assert status == 400
        assert body["statusCode"] == 400 and body["type"] == "application/vnd.microsoft.error"
        await _nothing_written(h)


async def test_unknown_verb_is_refused_with_400(db, tmp_path):
    async with Harness(db, tmp_path) as h:
        raw = h.activity("invoke_adaptiveCard_action_execute")  # verb-less, data Tandem never signed
        status, body = await h.post(raw)
        assert status == 400 and body["value"]["code"] == "BadRequest"
        message = Message(summary="x", blocks=(Actions(elements=(Button(label="A", action_id="a", value="1"),)),))
        action = first_execute(h.runtime.renderer.message_card(message))
        action["verb"] = "admin.delete_everything"
        status, _ = await h.post(invoke(h, action))
        assert status == 400
        await _nothing_written(h)


async def test_non_execute_card_action_is_refused_with_400(db, tmp_path):
    async with Harness(db, tmp_path) as h:
        raw = h.activity("invoke_adaptiveCard_action_execute")
        raw["value"]["action"]["type"] = "Action.Submit"
        status, body = await h.post(raw)
        assert status == 400 and body["value"]["code"] == "NotSupported"
        await _nothing_written(h)


async def test_unnamed_invoke_from_legacy_card_gets_501(db, tmp_path):
    async with Harness(db, tmp_path) as h:
        status, _ = await h.post(h.activity("invoke_unnamed_from_card_msteams_invoke"))
        assert status == 501
        assert h.core.events == []


async def test_redelivered_form_submission_carries_the_same_id_and_is_answered_alike(db, tmp_path):
    """The core acts once per id (tests/core/test_events_once.py) and answers the repeat with NoReply,
    which still gets Teams the answered card."""
    async with Harness(db, tmp_path) as h:
        action = (await h.runtime.bot.form_card(TENANT, SURVEY))["actions"][0]
        raw = invoke(h, action, rating="5", topics="tech", note="")
        first = await h.post(raw)
        second = await h.post(raw)
        assert first[0] == second[0] == 200
        once, again = h.core.events
        assert once.event_id == again.event_id == f"{raw['conversation']['id']}:{raw['id']}"
        assert second[1]["value"]["body"][0]["text"] == first[1]["value"]["body"][0]["text"]


async def test_a_long_select_is_searched_through_the_bot_and_submits_by_reference(db, tmp_path):
    people = tuple(Option(label=f"Person {n:03}", value=f"u{n}") for n in range(150))
    form = Form(
        form_id="pick", title="Pick someone", fields=(SelectInput(field_id="who", label="Who", options=people),)
    )
    async with Harness(db, tmp_path) as h:
        card = await h.runtime.bot.form_card(TENANT, form)
        [who] = (b for b in card["body"] if b["type"] == "Input.ChoiceSet")
        search = h.activity("invoke_adaptiveCard_action_execute")
        search["name"] = "application/search"
        search["value"] = {
            "queryText": "person 14",
            "queryOptions": {"skip": 0, "top": 15},
            "dataset": who["choices.data"]["dataset"],
        }
        status, body = await h.post(search)
        assert status == 200 and body["type"] == "application/vnd.microsoft.search.searchResponse"
        expected = [*(f"u{n}" for n in range(140, 150)), "u14", "u114"]  # words starting so first
        assert [r["value"] for r in body["value"]["results"]] == expected

        search["channelData"]["tenant"]["id"] = "another-tenant"  # another tenant never sees the options
        search["conversation"]["tenantId"] = "another-tenant"
        status, body = await h.post(search)
        assert status == 200 and body["value"]["results"] == []

        h.core.answer = lambda event: NoReply()
        status, body = await h.post(invoke(h, card["actions"][0], who="u149"))
        assert status == 200
        [event] = h.core.events
        assert event.values == {"who": "u149"}
        facts = {f["title"]: f["value"] for f in body["value"]["body"][1]["facts"]}
        assert facts == {"Who": "Person 149"}  # the kept form names the option
