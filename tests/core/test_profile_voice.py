"""Profiles with a voice: "about me" and "ask me about" in the profile, previewed, and shown in intros."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from adapters.slack import render
from adapters.teams.cards import CardRenderer
from adapters.teams.signing import CardSigner
from bot.kernel.events import FormErrors, OpenForm, Reply, Response
from bot.relationships.intros import intro_for_group, intro_for_person
from storage.tables import Program, Round, User
from tests.core.harness import Harness

ABOUT = "I build data pipelines and bake bread on weekends."
ASK = "sourdough, Rust, moving to Berlin"


def text_of(response: Response) -> str:
    assert isinstance(response, Reply), response
    return response.message.plain_text()


async def test_about_me_is_saved_previewed_and_shown_in_the_intro(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin = h.actor("UADMIN", admin=True)
    await h.create_program(admin)
    ana, ben = h.actor("U1", "Ana"), h.actor("U2", "Ben A.")
    await h.enrol(ana)
    await h.enrol(ben)
    assert "show only your name" in text_of(await h.command(ana, "profile show"))
    form = await h.command(ana, "profile")
    assert isinstance(form, OpenForm)
    assert {"about_me", "ask_me_about"} <= {f.field_id for f in form.form.fields}
    too_long = await h.submit(ana, form, {"about_me": "x" * 281})
    assert isinstance(too_long, FormErrors) and "280 characters" in too_long.errors["about_me"]
    saved = text_of(await h.submit(ana, form, {"about_me": ABOUT, "ask_me_about": ASK}))
    assert "Saved your profile" in saved and ABOUT in saved and ASK in saved
    assert ABOUT in text_of(await h.command(ana, "profile show"))
    async with db.session() as s:
        assert (await s.exec(select(User).where(User.platform_user_id == "U1"))).one().about_me == ABOUT

    await h.command(admin, "match now")
    await h.core.dispatch()
    intro = h.last_to("U2").message.plain_text()
    assert "matched in" in intro and f"Ana: “{ABOUT}”" in intro and f"_Ask me about:_ {ASK}" in intro
    assert "Ben A.: “" not in intro, "Ben wrote nothing, so there is no line for him"
    assert "share only" not in intro, "a full shared day needs no warning"


ANA = User(id=1, workspace_id=1, platform_user_id="U1", display_name="Ana", about_me=ABOUT, ask_me_about=ASK)
BEN = User(id=2, workspace_id=1, platform_user_id="U2", display_name="Ben")
PROGRAM = Program(id=1, workspace_id=1, name="Coffee", channel_id="C1", kind="peer")
ROUND = Round(id=1, program_id=1, number=1, seed=1, scheduled_for=datetime(2026, 3, 2, tzinfo=UTC))


def test_the_intro_voice_renders_on_slack_and_teams() -> None:
    group = intro_for_group(PROGRAM, ROUND, [("peer", ANA), ("peer", BEN)], ["You both like chess"], [])
    slack = [b for chunk in render.render_message(group).chunks for b in chunk]
    voice = next(b["text"]["text"] for b in slack if ABOUT in b.get("text", {}).get("text", ""))
    assert voice.startswith("<@U1>") and ASK in voice

    personal = intro_for_person(PROGRAM, ROUND, BEN, [("peer", ANA), ("peer", BEN)], [], [])
    card = CardRenderer(CardSigner("test-secret")).message_card(personal)
    texts = " ".join(str(b.get("text", "")) for b in card["body"])
    assert ABOUT in texts and ASK in texts
    mine = intro_for_person(PROGRAM, ROUND, ANA, [("peer", ANA), ("peer", BEN)], [], [])
    assert ABOUT not in mine.plain_text(), "Ana's own card shows Ben's words, not hers"
