"""Generated Slack and Teams payloads thrown at the real HTTP endpoints (hypothesis).

Recorded payloads are bent at random (values replaced by any JSON, keys removed), sent signed and
unsigned, with random shapes and sizes. Whatever arrives: no 5xx, no traceback or error in the log, and a
refused request (4xx) writes no row. The servers run on loopback in a background event loop (the real
core, a SQLite database, fake Slack Web API, Bot Connector and OpenID endpoints), so each example is one
real HTTP request. Examples are replayed fixed (``derandomize``) unless TANDEM_HYPOTHESIS_EXPLORE=1.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import os
import threading
import time
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlmodel import select

from adapters.slack.http import SLACK_ADAPTER
from adapters.slack.http import mount as mount_slack
from adapters.teams.config import TeamsConfig
from adapters.teams.http import mount as mount_teams
from bot.core import Tandem
from storage.database import Database, open_database, upgrade
from storage.tables import ConversationAddress, Delivery, Membership, ProcessedEvent, User, Workspace
from tests.slack.fake_slack import FakeSlack
from tests.slack.slack_harness import slack_config
from tests.slack.slack_support import load as load_slack
from tests.slack.slack_support import sign, slash_command
from tests.support.fixtures import load_json
from tests.teams.fake_connector import FakeConnector, recorded_members
from tests.teams.fake_openid import FakeOpenId, new_key

T = TypeVar("T")
APP_ID = "00000000-1111-2222-3333-444444444444"
OTHER_KEY = new_key()
TABLES = (User, Membership, ProcessedEvent, Delivery, ConversationAddress, Workspace)
SETTINGS = settings(
    max_examples=int(os.environ.get("TANDEM_FUZZ_EXAMPLES", "80")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    derandomize=os.environ.get("TANDEM_HYPOTHESIS_EXPLORE") != "1",
)

SLACK_BASES = [
    load_slack("events/event_callback_message_im.json"),
    load_slack("events/event_callback_app_mention.json"),
    load_slack("events/event_callback_member_joined_channel.json"),
    load_slack("events/event_callback_app_home_opened_home_tab.json"),
    load_slack("events/url_verification.json"),
]
SLACK_INTERACTIONS = [
    load_slack("interactivity/block_actions_button.json"),
    load_slack("interactivity/view_submission.json"),
    load_slack("interactivity/shortcut_global.json"),
]
TEAMS_BASES = [
    load_json("teams", "activities", f"{name}.json")
    for name in (
        "message_personal",
        "message_channel_mention",
        "conversationUpdate_bot_added_personal",
        "invoke_adaptiveCard_action_execute",
        "installationUpdate_add",
    )
]


class _Records(logging.Handler):
    """Every log record at WARNING or above, from every logger."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def bad(self) -> list[str]:
        return [
            f"{r.name}: {r.getMessage()}"
            for r in self.records
            if r.exc_info or r.levelno >= logging.ERROR or "Traceback" in r.getMessage()
        ]


@dataclass
class Servers:
    loop: asyncio.AbstractEventLoop
    db: Database
    core: Tandem
    slack_url: str
    teams_url: str
    teams_auth_url: str
    connector_url: str
    openid: FakeOpenId
    session: aiohttp.ClientSession
    log: _Records
    app: web.Application
    hook_url: str

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    async def rows(self) -> dict[str, int]:
        async with self.db.session() as s:
            return {t.__name__: (await s.exec(select(func.count()).select_from(t))).one() for t in TABLES}

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        async with self.session.post(url, data=body, headers=headers) as response:
            await response.read()
            return response.status

    async def settle(self) -> None:
        await self.app[SLACK_ADAPTER].background.drain()


async def _start(tmp: Path, log: _Records) -> tuple[Servers, list[Any]]:
    db = open_database(f"sqlite:///{tmp / 'fuzz.db'}")
    await upgrade(db)
    core = Tandem(db)
    fake = await FakeSlack().start()
    connector = await FakeConnector(recorded_members()).start()
    openid = FakeOpenId(new_key())
    await openid.start()
    app = web.Application()
    mount_slack(app, core, slack_config(fake))
    mount_teams(app, core, TeamsConfig())
    auth_app = web.Application()  # Teams with an app id: every request's JWT is checked
    mount_teams(auth_app, Tandem(db), TeamsConfig(app_id=APP_ID, openid_metadata_url=openid.metadata_url))
    runners = []
    urls = []
    for one in (app, auth_app):
        runner = web.AppRunner(one)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        runners.append(runner)
        urls.append(f"http://127.0.0.1:{runner.addresses[0][1]}")
    servers = Servers(
        loop=asyncio.get_running_loop(),
        db=db,
        core=core,
        slack_url=f"{urls[0]}/slack/events",
        teams_url=f"{urls[0]}/api/messages",
        teams_auth_url=f"{urls[1]}/api/messages",
        connector_url=connector.service_url,
        openid=openid,
        session=aiohttp.ClientSession(),
        log=log,
        app=app,
        hook_url=fake.hook_url("fuzz"),
    )
    return servers, [runners, fake, connector, openid]


async def _stop(servers: Servers, parts: list[Any]) -> None:
    runners, fake, connector, openid = parts
    await servers.settle()
    await servers.session.close()
    for runner in runners:
        await runner.cleanup()
    await fake.close()
    await connector.stop()
    await openid.stop()
    await servers.db.dispose()


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    log = _Records()
    logging.getLogger().addHandler(log)
    try:
        started, parts = asyncio.run_coroutine_threadsafe(_start(tmp_path_factory.mktemp("fuzz"), log), loop).result(60)
        yield started
        asyncio.run_coroutine_threadsafe(_stop(started, parts), loop).result(60)
    finally:
        logging.getLogger().removeHandler(log)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


# --- generated payloads ---------------------------------------------------------------------------------

LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(["", "<!channel>", "\x1b[31m\x07", "\u202e", "x" * 5000, "U123", "T111", "null"]),
)
JSON = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if prefix:
        yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*prefix, index))


@st.composite
def bent(draw: st.DrawFn, bases: list[dict[str, Any]]) -> Any:
    """A recorded payload with one to three values replaced by any JSON, or removed."""
    payload = copy.deepcopy(draw(st.sampled_from(bases)))
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(payload))
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = payload
        for step in path[:-1]:
            parent = parent[step]
        if isinstance(parent, dict) and draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(JSON)
    return payload


def _local_hooks(payload: Any, hook_url: str) -> Any:
    """Answers go to the fake Slack, never to hooks.slack.com."""
    if isinstance(payload, dict):
        return {k: hook_url if k == "response_url" else _local_hooks(v, hook_url) for k, v in payload.items()}
    if isinstance(payload, list):
        return [_local_hooks(v, hook_url) for v in payload]
    return payload


@st.composite
def slack_requests(draw: st.DrawFn, hook_url: str) -> tuple[bytes, dict[str, str]]:
    kind = draw(st.sampled_from(["event", "interaction", "command", "garbage"]))
    if kind == "event":
        body, content_type = json.dumps(draw(bent(SLACK_BASES))).encode(), "application/json"
    elif kind == "interaction":
        payload = _local_hooks(draw(st.one_of(bent(SLACK_INTERACTIONS), JSON)), hook_url)
        body, content_type = urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded"
    elif kind == "command":
        fields: dict[str, Any] = slash_command("help", user="U222", channel="C111", response_url=hook_url)
        for key in draw(st.lists(st.sampled_from(sorted(fields)), max_size=3)):
            if draw(st.booleans()):
                fields.pop(key, None)
            else:
                fields[key] = draw(st.text(max_size=300))
        body, content_type = urlencode(fields).encode(), "application/x-www-form-urlencoded"
    else:
        body = draw(st.binary(max_size=300)) if draw(st.booleans()) else json.dumps(draw(JSON)).encode()
        content_type = draw(st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain"]))
    headers = {"Content-Type": content_type}
    how = draw(st.sampled_from(["signed", "signed", "signed", "unsigned", "stale", "odd-timestamp"]))
    if how == "signed":
        headers.update(sign(body))
    elif how == "stale":
        headers.update(sign(body, timestamp=int(time.time()) - 3600))
    elif how == "odd-timestamp":
        headers.update(sign(body))
        headers["X-Slack-Request-Timestamp"] = draw(st.sampled_from(["9" * 401, "-1", "1e9", "", "0x1"]))
    return body, headers


def _teams_activity(servers: Servers, payload: Any) -> Any:
    payload = copy.deepcopy(payload)
    if isinstance(payload, dict) and isinstance(payload.get("serviceUrl"), str):
        payload["serviceUrl"] = servers.connector_url  # never call out to a real Teams
    return payload


def _check(servers: Servers, status: int, before: dict[str, int], what: str) -> None:
    assert status < 500, f"{status} for {what}"
    servers.run(servers.settle())
    bad = servers.log.bad()
    servers.log.records.clear()  # each example answers for its own log lines
    assert bad == [], what
    if status >= 400:
        assert servers.run(servers.rows()) == before, f"a refused request ({status}) wrote rows: {what}"


@SETTINGS
@given(data=st.data())
def test_fuzzed_slack_requests(servers: Servers, data: st.DataObject) -> None:
    body, headers = data.draw(slack_requests(servers.hook_url))
    before = servers.run(servers.rows())
    status = servers.run(servers.post(servers.slack_url, body, headers))
    _check(servers, status, before, f"{headers} {body[:300]!r}")


@SETTINGS
@given(payload=st.one_of(bent(TEAMS_BASES), bent(TEAMS_BASES), JSON))
def test_fuzzed_teams_activities(servers: Servers, payload: Any) -> None:
    payload = _teams_activity(servers, payload)
    body = json.dumps(payload).encode()
    before = servers.run(servers.rows())
    status = servers.run(servers.post(servers.teams_url, body, {"Content-Type": "application/json"}))
    _check(servers, status, before, body[:300].decode())


@st.composite
def forged_tokens(draw: st.DrawFn, servers: Servers) -> str:
    kind = draw(
        st.sampled_from(["garbage", "wrong-key", "unknown-kid", "expired", "alg-none", "hs256", "audience", "issuer"])
    )
    if kind == "garbage":
        return draw(st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=200))
    args: dict[str, Any] = {"app_id": APP_ID, "service_url": servers.connector_url}
    args.update(
        {
            "wrong-key": {"key": OTHER_KEY},
            "unknown-kid": {"kid": "nope"},
            "expired": {"exp": int(time.time()) - 3600, "nbf": int(time.time()) - 7200},
            "alg-none": {"alg": "none", "key": ""},
            "hs256": {"alg": "HS256", "key": "made-up-secret-made-up-secret-32b"},
            "audience": {"aud": "someone-else"},
            "issuer": {"iss": "https://evil.example"},
        }[kind]
    )
    return "Bearer " + servers.openid.token(**args)


@SETTINGS
@given(data=st.data())
def test_fuzzed_teams_tokens_are_all_refused(servers: Servers, data: st.DataObject) -> None:
    payload = _teams_activity(servers, data.draw(st.one_of(bent(TEAMS_BASES), st.sampled_from(TEAMS_BASES))))
    token = data.draw(forged_tokens(servers))
    before = servers.run(servers.rows())
    headers = {"Content-Type": "application/json", "Authorization": token}
    status = servers.run(servers.post(servers.teams_auth_url, json.dumps(payload).encode(), headers))
    assert status in (400, 401, 415), status
    _check(servers, status, before, token[:80])
