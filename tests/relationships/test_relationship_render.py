"""The agreement form, a proposal and a goal review through the Slack and Teams renderers."""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.slack import render
from adapters.teams.cards import CardRenderer
from adapters.teams.signing import CardSigner
from bot.relationships.agreements import Pair, agreement_form, proposal_message
from bot.relationships.goal_reviews import goal_review_message
from storage.tables import Agreement, Goal, Match, Program, User

SIGNER = CardSigner("test-secret")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ANA = User(id=1, workspace_id=1, platform_user_id="U1", display_name="Ana")
BEN = User(id=2, workspace_id=1, platform_user_id="U2", display_name="Ben")
PAIR = Pair(
    match=Match(id=7, round_id=1, program_id=1, created_at=NOW),
    program=Program(id=1, workspace_id=1, name="Mentoring", channel_id="C1", kind="mentoring"),
    members=[ANA, BEN],
)
AGREEMENT = Agreement(
    match_id=7, cadence="biweekly", medium="in_person", avoid="Fridays", proposed_by_user_id=1, proposed_at=NOW
)
GOALS = [
    Goal(id=11, match_id=7, owner_user_id=1, position=1, text="Lead a design review", status="on_track"),
    Goal(id=12, match_id=7, owner_user_id=2, position=2, text="Speak at a meetup", status="not_started"),
]


def test_the_agreement_form_prefilled_as_a_slack_modal_and_a_teams_card() -> None:
    form = agreement_form(PAIR, BEN, AGREEMENT, GOALS)
    view = render.render_form(form)
    goals, cadence, medium, avoid = view["blocks"][1:]
    assert (
        goals["element"]["multiline"] and goals["element"]["initial_value"] == "Lead a design review\nSpeak at a meetup"
    )
    assert cadence["element"]["initial_option"]["value"] == "biweekly"
    assert medium["element"]["initial_option"]["value"] == "in_person"
    assert avoid["optional"] and avoid["element"]["initial_value"] == "Fridays"
    assert view["private_metadata"] == "7" and "Ana" in view["blocks"][0]["text"]["text"]

    card = CardRenderer(SIGNER).form_card(form, ref="f1")
    inputs = {b["id"]: b for b in card["body"] if b["type"].startswith("Input.")}
    assert inputs["goals"]["isMultiline"] and inputs["goals"]["value"].startswith("Lead a design review")
    assert inputs["cadence"]["value"] == "biweekly" and inputs["medium"]["value"] == "in_person"
    assert "isRequired" not in inputs["avoid"]


def test_a_proposal_and_a_goal_review_keep_every_button_on_both_platforms() -> None:
    proposal = proposal_message(PAIR, AGREEMENT, GOALS, ANA)
    slack = [b for chunk in render.render_message(proposal).chunks for b in chunk]
    assert any("<@U1>" in b.get("text", {}).get("text", "") for b in slack)
    fields = next(b["fields"] for b in slack if "fields" in b)
    assert any("every two weeks" in f["text"] for f in fields) and any("in person" in f["text"] for f in fields)

    review = goal_review_message(PAIR.match, GOALS, BEN, [ANA], "halfway")
    blocks = [b for chunk in render.render_message(review).chunks for b in chunk]
    rows = [b["elements"] for b in blocks if b["type"] == "actions"]
    assert len(rows) == 2 and all(len(r) == 4 for r in rows)
    assert [e["value"] for e in rows[0]] == [f"11|halfway|{s}" for s in ("not_started", "on_track", "stuck", "done")]
    assert [e.get("style") for e in rows[0]] == [None, "primary", None, None]  # the current status, ticked
    assert len({e["action_id"] for e in rows[0]}) == 4  # Slack wants unique action ids in a block
    assert render.neutral_action_id(rows[0][3]["action_id"]) == "goal:status"

    card = CardRenderer(SIGNER).message_card(review)
    sets = [b["actions"] for b in card["body"] if b["type"] == "ActionSet"]
    assert len(sets) == 2 and all(len(s) == 4 for s in sets)
    assert [SIGNER.open("goal:status", a["data"])["value"] for a in sets[1]][3] == "12|halfway|done"
    assert sets[0][1]["style"] == "positive" and "Ana" in str(card["body"])
