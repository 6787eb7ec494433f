"""Socket Mode (SLACK_APP_TOKEN): the same listeners, fed over a WebSocket instead of signed HTTP posts."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from adapters.slack.http import mount
from bot.core import Tandem
from tests.slack.slack_harness import slack_config
from tests.slack.slack_support import load


async def test_socket_mode_receives_acks_and_answers(database, fake, conformance) -> None:  # noqa: ANN001
    mention = load("socket_mode/envelope_events_api_app_mention.json")
    command = {
        "envelope_id": "env-command-1",
        "type": "slash_commands",
        "accepts_response_payload": True,
        "payload": {
            **load("commands/slash_command_socket_mode.json"),
            "command": "/tandem",
            "text": "help",
            "response_url": fake.hook_url("socket-cmd"),
        },
    }
    fake.envelopes = [mention, command]
    core = Tandem(database, pacing=False)  # real wall clock: quiet hours would make the test depend on the time of day
    app = web.Application()
    mount(app, core, slack_config(fake, signing_secret=None, app_token="xapp-1-test"))
    assert not any(r.resource and r.resource.canonical == "/slack/events" for r in app.router.routes())
    async with TestClient(TestServer(app, host="127.0.0.1")):
        acks = await fake.wait_for("socket_ack", 2)
        assert {a["envelope_id"] for a in acks} == {mention["envelope_id"], "env-command-1"}
        [opened] = fake.called("apps.connections.open")
        assert opened.token == "xapp-1-test"
        await fake.wait_for("chat.postMessage")  # the mention is answered in its thread
        await fake.wait_for("hook")  # the command through its response_url
    post = fake.called("chat.postMessage")[0].args
    assert post["thread_ts"] == mention["payload"]["event"]["ts"]
    assert "join" in str(fake.hooks[0]["blocks"])
