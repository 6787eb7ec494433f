"""Every message and form the core produces fits its platform (issue #20), checked with the platforms' rules.

The corpus: every message a simulated 4-week mentoring program sent (welcome to wrap-up), every admin
command's answer in a workspace with 100 programs and a 60-person program, each command's help, the
core's forms, and made-up extremes (30 buttons, 150 options, a 60-row table, same-name mentions, an
empty message, a form without fields). Each is rendered exactly as the adapters send it:

- Slack: every block through slack_sdk's own models (``Block.parse(...).validate_json()``), ≤ 50 blocks a
  message, action ids unique in a message, modals through slack_sdk's ``View``;
- Teams: every card against the Adaptive Card rules (tests/support/adaptive_cards.py) and the whole
  message activity under ~28 KB;
- both: notification text in plain words (no markup) of at most 150 characters; rendering any message
  takes bounded time; long content is continued, not lost.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from sqlmodel import select

from adapters.slack.render import neutral_action_id, render_form, render_message, render_single
from adapters.teams.cards import CardRenderer, FilePlacement
from adapters.teams.fitting import CONTINUED
from adapters.teams.outbound import card_activity
from adapters.teams.signing import CardSigner
from bot.chat import registry
from bot.kernel.events import OpenForm, Reply, Response
from bot.kernel.messages import (
    SUMMARY_CHARS,
    Actions,
    Button,
    Choice,
    Form,
    Header,
    Mention,
    Message,
    Option,
    Section,
    SelectInput,
    Text,
)
from storage.database import open_database, upgrade
from storage.tables import Delivery
from tandem.demo import DemoOptions, run_demo
from tests.core.harness import Harness
from tests.support.adaptive_cards import MAX_ACTIVITY_BYTES, activity_size, problems

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
RENDER_SECONDS = 1.0  # far above what any message needs: a renderer that loops fails this
TEAMS = CardRenderer(CardSigner("fits-test"))
REF = "f" * 40  # a form reference as long as form_store makes them


@dataclass
class Corpus:
    messages: dict[str, Message] = field(default_factory=dict)
    forms: dict[str, Form] = field(default_factory=dict)

    def take(self, label: str, response: Response) -> None:
        if isinstance(response, Reply):
            self.messages[label] = response.message
        elif isinstance(response, OpenForm):
            self.forms[label] = response.form


async def _demo(corpus: Corpus, folder: Path) -> None:
    """Everything a short mentoring program sends, as stored in its outbox."""
    url = f"sqlite:///{folder / 'demo.db'}"
    await run_demo(DemoOptions(participants=6, weeks=4, db_url=url))
    db = open_database(url)
    async with db.session() as session:
        rows = (await session.exec(select(Delivery))).all()
    await db.dispose()
    for row in rows:
        corpus.messages[f"demo {row.step} #{row.id}"] = Message.model_validate_json(json.dumps(row.message))


async def _admin(corpus: Corpus, folder: Path) -> None:
    """100 programs, one of them with 60 people, and every command's answer and help there."""
    db = open_database(f"sqlite:///{folder / 'admin.db'}")
    await upgrade(db)
    h = Harness.create(db, START)
    admin = h.actor("U-ADMIN", "Admin Person", admin=True)
    for n in range(100):
        name = f"Program {n:03} for the people of floor {n % 7} who like long walks and longer talks"
        await h.create_program(admin, channel=f"ch{n:03}", name=name, kind="mentoring" if n % 2 else "peer")
    for n in range(60):
        await h.enrol(h.actor(f"U{n:03}", f"Person Number {n:03} Withalongname"), channel="ch001")
    for command in registry.commands():
        corpus.take(f"admin {command.name}", await h.command(admin, command.name, "ch001"))
        corpus.take(f"help {command.name}", await h.command(admin, f"help {command.name}", "ch001"))
    corpus.take("admin match now again", await h.command(admin, "match now", "ch001"))
    corpus.take("someone's profile", await h.command(h.actor("U007"), "profile", "ch001"))
    await h.core.dispatch()
    for n, sent in enumerate(h.port.sent):
        corpus.messages[f"sent #{n}"] = sent.message
    await db.dispose()


def _extremes(corpus: Corpus) -> None:
    options = tuple(Option(label=f"Option {n:03} with a longer label", value=f"o{n}") for n in range(150))
    buttons = tuple(Button(label=f"Choice {n}", action_id="survey:answer", value=f"q1|{n}") for n in range(30))
    table = tuple((f"Person Number {n:03}", f"matched with Person {n + 1:03}; met 3 times") for n in range(60))
    corpus.messages.update(
        {
            "30 buttons": Message(summary="Pick one of **thirty**", blocks=(Actions(elements=buttons),)),
            "150 options": Message(
                summary="Pick",
                blocks=(Actions(elements=(Choice(action_id="pick", placeholder="Pick", options=options),)),),
            ),
            "60-person table": Message(
                summary="`stats` for **Everyone**",
                blocks=(Header(text="Everyone"), Section(text=Text.of("**People**"), fields=table)),
            ),
            "same names": Message(
                summary="Meet your group",
                blocks=(
                    Section(
                        text=Text.of(
                            Mention(user_id="U1", name="Alex Kim"), " and ", Mention(user_id="U2", name="Alex Kim")
                        )
                    ),
                ),
            ),
            "empty": Message(summary=""),
            "summary only": Message(summary="Only a summary"),
            "huge text": Message(summary="x", blocks=(Section(text=Text.of("word " * 30_000)),)),
        }
    )
    corpus.forms["150-option form"] = Form(
        form_id="pick", title="Pick", fields=(SelectInput(field_id="o", label="Option", options=options),)
    )
    corpus.forms["no fields"] = Form(form_id="ok", title="Just confirm", fields=())


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    found = Corpus()
    folder = tmp_path_factory.mktemp("fits")

    async def build() -> None:
        await _demo(found, folder)
        await _admin(found, folder)

    asyncio.run(build())
    _extremes(found)
    return found


def _timed(render, *args):  # noqa: ANN001, ANN202
    started = time.perf_counter()
    result = render(*args)
    assert time.perf_counter() - started < RENDER_SECONDS, f"rendering took too long: {args[0]!r:.200}"
    return result


def _plain_summary(text: str) -> bool:
    return 0 < len(text) <= SUMMARY_CHARS and "**" not in text and "`" not in text


def test_the_corpus_covers_the_large_cases(corpus: Corpus) -> None:
    steps = {label.split()[1] for label in corpus.messages if label.startswith("demo ")}
    assert {"intro", "agreement", "booking", "wrapup", "welcome"} <= steps, steps
    listing = corpus.messages["admin program list"].plain_text()
    assert all(f"Program {n:03}" in listing for n in range(100))
    assert len(corpus.messages) > 150 and len(corpus.forms) >= 3


def test_every_message_is_valid_block_kit(corpus: Corpus) -> None:
    for label, message in corpus.messages.items():
        for rendered in (_timed(render_message, message), _timed(render_single, message)):
            assert rendered.chunks and all(0 < len(chunk) <= 50 for chunk in rendered.chunks), label
            assert _plain_summary(rendered.text.replace("&amp;", "&")), (label, rendered.text)
            ids: list[str] = []
            for block in (b for chunk in rendered.chunks for b in chunk):
                Block.parse(block).validate_json()  # raises SlackObjectFormationError on any broken limit
                ids += [el["action_id"] for el in block.get("elements", []) if "action_id" in el]
            assert len(ids) == len(set(ids)), (label, ids)
            assert all(neutral_action_id(i) for i in ids)


def test_every_form_is_a_valid_slack_modal(corpus: Corpus) -> None:
    for label, form in corpus.forms.items():
        view = _timed(render_form, form)
        View(**view).validate_json()
        options = [
            o
            for b in view["blocks"]
            for g in b.get("element", {}).get("option_groups", [{"options": b.get("element", {}).get("options", [])}])
            for o in g["options"]
        ]
        selects = [f for f in form.fields if isinstance(f, SelectInput)]
        assert len(options) >= sum(len(f.options) for f in selects), f"{label}: options were dropped"


def test_every_message_is_a_valid_teams_card_under_the_size_limit(corpus: Corpus) -> None:
    for label, message in corpus.messages.items():
        rendered = _timed(TEAMS.render, message, FilePlacement.BELOW)
        for n, card in enumerate(rendered.cards):
            assert problems(card) == [], (label, n, problems(card))
            activity = card_activity(card, message.summary).serialize()
            assert activity_size(activity) <= MAX_ACTIVITY_BYTES, (label, n)
            assert _plain_summary(activity["summary"]), (label, activity["summary"])
            if n < len(rendered.cards) - 1:
                assert card["body"][-1]["text"] == CONTINUED  # the reader is told the message goes on


def test_long_teams_messages_continue_and_lose_nothing(corpus: Corpus) -> None:
    cards = TEAMS.render(corpus.messages["admin program list"], FilePlacement.BELOW).cards
    shown = json.dumps(cards, ensure_ascii=False)
    assert all(f"Program {n:03}" in shown for n in range(100))
    cards = TEAMS.render(corpus.messages["huge text"], FilePlacement.BELOW).cards
    assert len(cards) > 1
    assert sum(b["text"].count("word") for c in cards for b in c["body"]) == 30_000


def test_every_form_is_a_valid_teams_card_under_the_size_limit(corpus: Corpus) -> None:
    for label, form in corpus.forms.items():
        card = _timed(lambda f: TEAMS.form_card(f, ref=REF), form)
        assert problems(card) == [], (label, problems(card))
        assert activity_size(card_activity(card, form.title).serialize()) <= MAX_ACTIVITY_BYTES, label
        assert len(json.dumps(card["actions"][0]["data"])) < 600, f"{label}: the action carries the form"
