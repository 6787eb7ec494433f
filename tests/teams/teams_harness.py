"""End-to-end harness: the real aiohttp app on loopback, a fake Bot Connector, a real SQLite database.

The core is the real ``Tandem`` with ``handle`` recorded and scripted, so these tests pin the adapter's
side of the contract (what reaches the core, what goes back to Teams) without depending on core features.
"""

from __future__ import annotations

import copy
import json
import random
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import func
from sqlmodel import select

from adapters.teams.config import TeamsConfig
from adapters.teams.http import RUNTIME_KEY, TeamsRuntime, mount
from adapters.teams.pacing import Pacer
from adapters.teams.port import Backoff
from bot.core import Tandem
from bot.kernel.events import NoReply, Response
from storage.database import Database, open_database, upgrade
from tests.support.fixtures import load_json
from tests.teams.fake_connector import FakeConnector, recorded_members


class FakeTime:
    """Monotonic time that only moves when someone sleeps: retries and pacing without real waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class RecordingTandem(Tandem):
    """The real core object, with ``handle`` recording events and answering from a script."""

    def __init__(self, db: Database) -> None:
        super().__init__(db, pacing=False)
        self.events: list[Any] = []
        self.answer: Callable[[Any], Response] = lambda event: NoReply()

    async def handle(self, event: Any) -> Response:
        self.events.append(event)
        return self.answer(event)


def load(name: str) -> dict[str, Any]:
    """A recorded Teams activity from ``tests/fixtures/teams/activities``, by name without ``.json``."""
    return load_json("teams", "activities", f"{name}.json")


class Harness:
    def __init__(
        self, db: Database | None, tmp_path: Path, config: TeamsConfig | None = None, *, real_core: bool = False
    ) -> None:
        """``db``: the shared ``db`` fixture (SQLite, and PostgreSQL when configured); ``None`` makes a
        SQLite database in ``tmp_path``."""
        self.tmp_path = tmp_path
        self._own_db = db is None
        self.real_core = real_core
        self.config = config or TeamsConfig()
        self.time = FakeTime()
        self.connector = FakeConnector(recorded_members())
        self.db: Database | None = db
        self.core: Any = None
        self.runtime: TeamsRuntime | None = None
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.url = ""

    async def __aenter__(self) -> Harness:
        if self.db is None:
            self.db = open_database(f"sqlite:///{self.tmp_path / 'teams.db'}")
            await upgrade(self.db)
        # real wall clock: quiet hours would make the tests depend on the time of day (pacing is off)
        self.core = Tandem(self.db, pacing=False) if self.real_core else RecordingTandem(self.db)
        await self.connector.start()
        app = web.Application()
        mount(
            app,
            self.core,
            self.config,
            sleep=self.time.sleep,
            backoff=Backoff(rng=random.Random(7)),
            pacer=Pacer(clock=self.time.monotonic, sleep=self.time.sleep),
        )
        self.runtime = app[RUNTIME_KEY]
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/api/messages"
        self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session:
            await self._session.close()
        if self._runner:
            await self._runner.cleanup()
        await self.connector.stop()
        if self.db and self._own_db:
            await self.db.dispose()

    # --- activities -----------------------------------------------------------------------------------

    def activity(self, fixture: str, /, **changes: Any) -> dict[str, Any]:
        """A recorded payload pointed at the fake connector, with a fresh activity id."""
        raw = copy.deepcopy(load(fixture))
        raw["serviceUrl"] = self.connector.service_url
        raw["id"] = f"f:{uuid.uuid4()}"
        raw.update(changes)
        return raw

    async def post(
        self, body: Any, *, content_type: str | None = "application/json", headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        assert self._session is not None
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        sent = dict(headers or {})
        if content_type is not None:
            sent["Content-Type"] = content_type
        async with self._session.post(
            self.url, data=data, headers=sent, skip_auto_headers=["Content-Type"]
        ) as response:
            text = await response.text()
            try:
                payload = json.loads(text) if text else None
            except ValueError:
                payload = text
            return response.status, payload

    def submit(
        self, card: dict[str, Any], fixture: str = "invoke_adaptiveCard_action_execute", **values: str
    ) -> dict[str, Any]:
        """What the Teams client sends for the card's Action.Execute: its data plus every input's value."""
        inputs = {e["id"]: e.get("value", "") for e in card["body"] if e.get("type", "").startswith("Input.")}
        inputs.update(values)
        action = card["actions"][0]
        raw = self.activity(fixture)
        raw["value"]["action"] = {
            "type": "Action.Execute",
            "verb": action["verb"],
            "title": action["title"],
            "data": {**action["data"], **inputs},
        }
        return raw

    # --- database -------------------------------------------------------------------------------------

    async def count(self, table: Any) -> int:
        assert self.db is not None
        async with self.db.session() as session:
            return (await session.exec(select(func.count()).select_from(table))).one()

    async def rows(self, table: Any) -> list[Any]:
        assert self.db is not None
        async with self.db.session() as session:
            return list((await session.exec(select(table))).all())
