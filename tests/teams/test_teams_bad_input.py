"""Bad input gets the status the Bot Framework uses, a log line, no crash and nothing written."""

from __future__ import annotations

import json
import logging

import pytest

from adapters.teams.config import TeamsConfig
from storage.tables import ConversationAddress, ProcessedEvent, User, Workspace
from tests.teams.teams_harness import Harness

APP_ID = "00000000-1111-2222-3333-444444444444"


async def _nothing_written(h: Harness) -> None:
    assert h.core.events == []
    assert h.connector.calls == []
    for table in (ConversationAddress, User, Workspace, ProcessedEvent):
        assert await h.count(table) == 0


async def test_unsigned_request_gets_401_when_an_app_id_is_configured(db, tmp_path, caplog):
    config = TeamsConfig(app_id=APP_ID, app_password="not-a-real-secret")
    async with Harness(db, tmp_path, config) as h:
        with caplog.at_level(logging.WARNING, logger="tandem.teams"):
            status, _ = await h.post(h.activity("message_personal"))
        assert status == 401
        assert "401" in caplog.text
        status, _ = await h.post(h.activity("message_personal"), headers={"Authorization": ""})
        assert status == 401
        await _nothing_written(h)


async def test_no_app_id_logs_a_loud_warning_at_startup(db, tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="tandem.teams"):
        async with Harness(db, tmp_path):
            pass
    assert "UNAUTHENTICATED" in caplog.text


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ("message_personal", "text/plain", 415),
        ("message_personal", None, 415),
        ("message_personal", "application/x-www-form-urlencoded", 415),
        ("{not json", "application/json", 400),
        ("[]", "application/json", 400),
    ],
)
async def test_wrong_content_type_or_body(db, tmp_path, caplog, body, content_type, status):
    async with Harness(db, tmp_path) as h:
        data = json.dumps(h.activity(body)) if not body.startswith(("{", "[")) else body
        with caplog.at_level(logging.WARNING, logger="tandem.teams"):
            got, _ = await h.post(data, content_type=content_type)
        assert got == status
        assert str(status) in caplog.text
        await _nothing_written(h)


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda raw: raw.pop("type"), id="no-type"),
        pytest.param(lambda raw: raw.update(type=""), id="empty-type"),
        pytest.param(lambda raw: raw.pop("serviceUrl"), id="no-serviceUrl"),
        pytest.param(lambda raw: raw.update(serviceUrl="ftp://x"), id="bad-serviceUrl"),
        pytest.param(
            lambda raw: (raw["channelData"].pop("tenant"), raw["conversation"].pop("tenantId")), id="no-tenant"
        ),
        pytest.param(lambda raw: raw.pop("from"), id="no-from"),
        pytest.param(lambda raw: raw.update(conversation="x"), id="conversation-not-object"),
    ],
)
async def test_malformed_activity_gets_400(db, tmp_path, caplog, mutate):
    async with Harness(db, tmp_path) as h:
        raw = h.activity("message_personal")
        mutate(raw)
        with caplog.at_level(logging.WARNING, logger="tandem.teams"):
            status, _ = await h.post(raw)
        assert status == 400
        assert "400" in caplog.text
        await _nothing_written(h)


async def test_unknown_activity_type_is_acknowledged_and_ignored(db, tmp_path):
    async with Harness(db, tmp_path) as h:
        status, _ = await h.post(h.activity("message_personal", type="somethingNew"))
        assert status == 201  # what botbuilder answers for activity types it does not know
        await _nothing_written(h)


async def test_unknown_invoke_name_gets_501(db, tmp_path):
    async with Harness(db, tmp_path) as h:
        raw = h.activity("invoke_adaptiveCard_action_execute", name="composeExtension/somethingElse")
        status, _ = await h.post(raw)
        assert status == 501
        assert h.core.events == []


async def test_get_is_not_allowed(db, tmp_path):
    async with Harness(db, tmp_path) as h:
        async with h._session.get(h.url) as response:
            assert response.status == 405


async def test_authentication_comes_before_any_closer_look(db, tmp_path):
    """With an app id, an unsigned request is 401 even when its card data is also bad."""
    config = TeamsConfig(app_id=APP_ID, app_password="not-a-real-secret")
    async with Harness(db, tmp_path, config) as h:
        status, _ = await h.post(h.activity("invoke_adaptiveCard_action_execute"))
        assert status == 401
        raw = h.activity("message_personal")
        raw["channelData"].pop("tenant")
        raw["conversation"].pop("tenantId")
        assert (await h.post(raw))[0] == 401
        await _nothing_written(h)


async def test_malformed_bearer_token_gets_401(db, tmp_path):
    config = TeamsConfig(app_id=APP_ID, app_password="not-a-real-secret")
    async with Harness(db, tmp_path, config) as h:
        status, _ = await h.post(h.activity("message_personal"), headers={"Authorization": "Basic abc"})
        assert status == 401
        await _nothing_written(h)


@pytest.mark.parametrize(
    "fixture", ["message_value_action_submit_with_input", "message_value_messageBack_from_adaptive_card"]
)
async def test_legacy_action_submit_from_foreign_cards_is_acknowledged_and_ignored(db, tmp_path, fixture):
    async with Harness(db, tmp_path) as h:
        status, _ = await h.post(h.activity(fixture))
        assert status == 201
        assert h.core.events == []
        assert h.connector.calls_to("POST") == []
