"""The Slack manifests ask for exactly the scopes the adapter's Web API calls and events need.

The adapter's source is scanned for every Web API method it names (``"chat.postMessage"``) or calls through
the SDK (``client.users_info(``), and for every event it listens to; each must be in the scope map in
adapters/slack/config.py, and both manifests must grant exactly the scopes the map adds up to.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from adapters.slack.config import BOT_SCOPES, EVENT_SCOPES, METHOD_SCOPES

ADAPTER = Path(__file__).resolve().parents[2] / "adapters" / "slack"
FAMILIES = "auth|chat|conversations|users|files|views|team|reactions|apps|oauth|pins|bookmarks|reminders|usergroups"
NAMED = re.compile(rf'"((?:{FAMILIES})\.[a-z][A-Za-z]+)"')
SDK_CALL = re.compile(rf"\bclient\.((?:{FAMILIES})_[a-z_]+)\(")
EVENT = re.compile(r'@app\.event\("([a-z_]+)"\)')
# Names that look like methods but are not calls (a host name, the SDK's v2 upload helper's real methods).
NOT_METHODS = {"files.slack.com"}
SDK_HELPERS = {"files_upload_v2": ("files.getUploadURLExternal", "files.completeUploadExternal")}


def _methods_in_adapter() -> set[str]:
    found: set[str] = set()
    for path in ADAPTER.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        found.update(m for m in NAMED.findall(source) if m not in NOT_METHODS)
        for call in SDK_CALL.findall(source):
            found.update(SDK_HELPERS.get(call, (call.replace("_", ".", 1),)))
    return found


def _events_in_adapter() -> set[str]:
    events = set(EVENT.findall((ADAPTER / "app.py").read_text(encoding="utf-8")))
    # Bolt's "message" listener gets the DMs: the manifest subscribes to message.im only
    return {"message.im" if event == "message" else event for event in events}


def test_every_method_the_adapter_calls_has_its_scopes_listed() -> None:
    methods = _methods_in_adapter()
    assert {"chat.postMessage", "conversations.replies", "users.info", "files.getUploadURLExternal"} <= methods
    missing = sorted(methods - METHOD_SCOPES.keys())
    assert missing == [], f"add these methods and their scopes to METHOD_SCOPES: {missing}"


def test_every_event_the_adapter_handles_is_subscribed() -> None:
    assert _events_in_adapter() == set(EVENT_SCOPES)


def test_private_channel_threads_can_be_read() -> None:
    assert "groups:history" in METHOD_SCOPES["conversations.replies"]
    assert "reactions:read" not in BOT_SCOPES  # reactions come with conversations.replies; nothing else reads them


@pytest.mark.parametrize("name", ["slack.yaml", "slack-socket-mode.yaml"])
def test_manifest_grants_exactly_what_the_code_needs(name: str) -> None:
    manifest = yaml.safe_load((ADAPTER / "manifest" / name).read_text(encoding="utf-8"))
    needed = {"commands"} | {s for need in (*METHOD_SCOPES.values(), *EVENT_SCOPES.values()) for s in need}
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(needed) == sorted(BOT_SCOPES)
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == set(EVENT_SCOPES)
    command = manifest["features"]["slash_commands"][0]
    assert command["should_escape"] is True  # `/tandem avoid @x` must arrive as <@U…> for the parser
    assert manifest["settings"]["org_deploy_enabled"] is True  # docs/slack.md describes org-wide installs
