"""Multi-workspace (OAuth) mode: each workspace's own bot token, strangers turned away, uninstall forgets."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from slack_sdk.oauth.installation_store import Installation

from adapters.slack.http import SLACK_ADAPTER, mount
from bot.core import Tandem
from storage.sealing import new_key
from tests.slack.slack_harness import Harness, slack_config
from tests.slack.slack_support import form_request, load, slash_command

KEY = new_key()


@pytest.fixture(params=["plain", "sealed"])
async def oauth(request, database, fake) -> AsyncIterator[Harness]:  # noqa: ANN001
    """Every test runs with tokens stored as they are, and encrypted at rest (TANDEM_SECRET_KEYS)."""
    core = Tandem(database, pacing=False)  # quiet hours off: the wall clock's time of day must not matter
    app = web.Application()
    keys = (KEY,) if request.param == "sealed" else ()
    mount(app, core, slack_config(fake, bot_token=None, client_id="111.222", client_secret="shh", secret_keys=keys))
    adapter = app[SLACK_ADAPTER]
    assert adapter.installations is not None
    await adapter.installations.async_save(
        Installation(
            app_id="A111",
            team_id="T111",
            team_name="Test",
            bot_token="xoxb-T111-token",
            bot_id="B111",
            bot_user_id="W23456789",
            bot_scopes="chat:write,commands",
            user_id="W111",
        )
    )
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    h = Harness(client=client, core=core, fake=fake, adapter=adapter)
    yield h
    await h.settle()
    await client.close()


async def test_installed_workspace_is_served_with_its_own_token(oauth) -> None:  # noqa: ANN001
    fields = slash_command("help", user="U222", channel="C111", response_url=oauth.fake.hook_url("c"))
    resp = await oauth.post(*form_request(fields))
    assert resp.status == 200
    await oauth.settle()
    assert "join" in oauth.fake.hooks[-1]["text"] + str(oauth.fake.hooks[-1]["blocks"])
    assert {c.token for c in oauth.fake.called("users.info")} == {"xoxb-T111-token"}
    ref = await oauth.adapter.port.send_to_user("T111", "U222", load_text("hello"))
    assert ref.message_id
    assert oauth.fake.called("chat.postMessage")[-1].token == "xoxb-T111-token"


async def test_workspaces_without_an_installation_are_turned_away(oauth) -> None:  # noqa: ANN001
    fields = slash_command("help", user="U9", channel="C9", response_url=oauth.fake.hook_url("c"), team="T999")
    resp = await oauth.post(*form_request(fields))
    assert resp.status == 200
    await oauth.settle()
    assert oauth.fake.calls == []  # no Web API call, no core work
    assert len(oauth.fake.hooks) == 1
    assert "reinstall this app" in oauth.fake.hooks[0]["text"]  # bolt's note to the person
    async with oauth.core.db.session() as s:
        from sqlmodel import func, select

        from storage.tables import Workspace

        assert (await s.exec(select(func.count()).select_from(Workspace))).one() == 0


async def test_uninstall_forgets_the_token(oauth) -> None:  # noqa: ANN001
    payload = copy.deepcopy(load("events/event_callback_member_joined_channel.json"))
    payload["event"] = {"type": "app_uninstalled", "event_ts": "1.1"}
    payload["event_id"] = "Ev-uninstall"
    payload.pop("enterprise_id")
    assert (await oauth.event(payload)).status == 200
    await oauth.settle()
    assert await oauth.adapter.installations.bot_token("T111") is None


def load_text(text: str):  # noqa: ANN201
    from bot.kernel.messages import text_message

    return text_message(text)


async def test_an_org_wide_install_serves_its_workspaces_in_and_out(oauth) -> None:  # noqa: ANN001
    store = oauth.adapter.installations
    await store.async_save(
        Installation(
            app_id="A111",
            enterprise_id="E777",
            team_id=None,
            bot_token="xoxb-org-token",
            bot_id="B777",
            bot_user_id="W777",
            bot_scopes="chat:write,commands",
            user_id="W700",
            is_enterprise_install=True,
        )
    )
    assert await store.bot_token("T777") is None, "nothing links the workspace to the org yet"
    fields = slash_command("help", user="U777", channel="C777", response_url=oauth.fake.hook_url("o"), team="T777")
    fields.update(enterprise_id="E777", is_enterprise_install="true")
    assert (await oauth.post(*form_request(fields))).status == 200
    await oauth.settle()
    assert "join" in oauth.fake.hooks[-1]["text"] + str(oauth.fake.hooks[-1]["blocks"])
    assert {c.token for c in oauth.fake.called("users.info")} == {"xoxb-org-token"}
    await oauth.adapter.port.send_to_user("T777", "U777", load_text("your round is ready"))
    assert oauth.fake.called("chat.postMessage")[-1].token == "xoxb-org-token", "a scheduled send finds the org"
    await store.async_save(
        Installation(
            app_id="A111",
            enterprise_id="E777",
            team_id="T777",
            bot_token="xoxb-T777-own",
            bot_id="B778",
            bot_user_id="W778",
            bot_scopes="chat:write",
            user_id="W701",
        )
    )
    assert await store.bot_token("T777") == "xoxb-T777-own", "a workspace's own install wins"
    assert await store.bot_token("T111") == "xoxb-T111-token"


async def test_uninstall_forgets_everyone_there_when_configured(oauth) -> None:  # noqa: ANN001
    """TANDEM_FORGET_ON_UNINSTALL: Slack's signed app_uninstalled event erases every person of that workspace."""
    from dataclasses import replace

    from sqlmodel import select

    from storage.tables import User, Workspace

    oauth.core.privacy = replace(oauth.core.privacy, forget_on_uninstall=True)
    async with oauth.core.db.transaction() as s:
        workspace = Workspace(platform="slack", external_id="T111", name="Test")
        s.add(workspace)
        await s.flush()
        s.add(
            User(
                workspace_id=workspace.id or 0, platform_user_id="W999", display_name="Ada Lovelace", email="ada@x.org"
            )
        )
    payload = copy.deepcopy(load("events/event_callback_member_joined_channel.json"))
    payload["event"] = {"type": "app_uninstalled", "event_ts": "1.1"}
    payload["event_id"] = "Ev-uninstall-2"
    payload.pop("enterprise_id")
    assert (await oauth.event(payload)).status == 200
    await oauth.settle()
    async with oauth.core.db.session() as s:
        user = (await s.exec(select(User))).one()
        assert (user.platform_user_id, user.display_name, user.email) == (
            f"forgotten-{user.id}",
            "Former participant",
            None,
        )
        assert (await s.exec(select(Workspace))).one().uninstalled_at is not None
