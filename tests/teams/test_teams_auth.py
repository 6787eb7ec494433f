"""The Bot Framework JWT through the real endpoint: a good token is accepted, every forged one gets 401.

Keys are RSA keys made here and published by a fake OpenID endpoint on 127.0.0.1; an unreachable or
stalled key endpoint is a 503 with one log line, never a traceback, and never stalls other requests.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator

import pytest

from adapters.teams.config import TeamsConfig
from storage.tables import ConversationAddress, ProcessedEvent, User
from tests.teams.fake_openid import FakeOpenId, new_key
from tests.teams.teams_harness import Harness

APP_ID = "00000000-1111-2222-3333-444444444444"
KEY = new_key()
OTHER_KEY = new_key()


@pytest.fixture
async def openid() -> AsyncIterator[FakeOpenId]:
    fake = FakeOpenId(KEY)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


def _config(openid: FakeOpenId) -> TeamsConfig:
    return TeamsConfig(app_id=APP_ID, app_password="not-a-real-secret", openid_metadata_url=openid.metadata_url)


async def _nothing_written(h: Harness) -> None:
    assert h.core.events == []
    for table in (ConversationAddress, User, ProcessedEvent):
        assert await h.count(table) == 0


async def test_a_token_signed_by_a_published_key_is_accepted(sqlite_db, tmp_path, openid):
    async with Harness(sqlite_db, tmp_path, _config(openid)) as h:
        token = openid.token(app_id=APP_ID, service_url=h.connector.service_url)
        status, _ = await h.post(h.activity("message_personal"), headers={"Authorization": f"Bearer {token}"})
        assert status in (200, 201)
        assert len(h.core.events) == 1
        # the keys are cached: a second request does not fetch them again
        token = openid.token(app_id=APP_ID, service_url=h.connector.service_url)
        status, _ = await h.post(h.activity("message_personal"), headers={"Authorization": f"Bearer {token}"})
        assert status in (200, 201)
        assert openid.requests == 1


FORGED = {
    "expired": dict(exp=int(time.time()) - 3600, nbf=int(time.time()) - 7200),
    "nbf-in-the-future": dict(nbf=int(time.time()) + 3600),
    "wrong-audience": dict(aud="11111111-0000-0000-0000-000000000000"),
    "no-audience": dict(aud=None),
    "wrong-issuer": dict(iss="https://evil.example"),
    "no-expiry": dict(exp=None),
    "wrong-key": dict(key=OTHER_KEY),
    "unknown-kid": dict(kid="key-404"),
    "alg-none": dict(alg="none", key=""),
    "hs256-made-up-key": dict(alg="HS256", key="made-up-secret-made-up-secret-32b"),
    "other-service-url": dict(service_url="https://evil.example/amer/"),
}


@pytest.mark.parametrize("forgery", list(FORGED), ids=list(FORGED))
async def test_forged_tokens_get_401_without_a_traceback(sqlite_db, tmp_path, openid, caplog, forgery):
    async with Harness(sqlite_db, tmp_path, _config(openid)) as h:
        changes = {"service_url": h.connector.service_url, **FORGED[forgery]}
        token = openid.token(app_id=APP_ID, **changes)
        with caplog.at_level(logging.INFO):
            status, body = await h.post(h.activity("message_personal"), headers={"Authorization": f"Bearer {token}"})
        assert (status, body) == (401, {"error": "unauthorized"})
        assert "Traceback" not in caplog.text
        assert all(r.exc_info is None for r in caplog.records)
        await _nothing_written(h)


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer garbage", "Basic dXNlcjpwYXNz", "Bearer a.b.c", "Bearer " + "x" * 8000, "bearer x.y.z"],
)
async def test_garbage_headers_get_401(sqlite_db, tmp_path, openid, caplog, header):
    async with Harness(sqlite_db, tmp_path, _config(openid)) as h:
        with caplog.at_level(logging.INFO):
            status, _ = await h.post(h.activity("message_personal"), headers={"Authorization": header})
        assert status == 401
        assert all(r.exc_info is None for r in caplog.records)
        await _nothing_written(h)


async def test_a_key_not_endorsed_for_the_channel_is_refused(sqlite_db, tmp_path, caplog):
    fake = FakeOpenId(KEY, endorsements=["skype"])
    await fake.start()
    try:
        async with Harness(sqlite_db, tmp_path, _config(fake)) as h:
            token = fake.token(app_id=APP_ID, service_url=h.connector.service_url)
            status, _ = await h.post(h.activity("message_personal"), headers={"Authorization": f"Bearer {token}"})
            assert status == 401
            await _nothing_written(h)
    finally:
        await fake.stop()


async def test_unreachable_key_endpoint_is_503_without_a_traceback(sqlite_db, tmp_path, openid, caplog):
    config = TeamsConfig(app_id=APP_ID, openid_metadata_url="http://127.0.0.1:9/v1/.well-known/openidconfiguration")
    async with Harness(sqlite_db, tmp_path, config) as h:
        token = openid.token(app_id=APP_ID, service_url=h.connector.service_url)
        with caplog.at_level(logging.INFO):
            status, _ = await h.post(h.activity("message_personal"), headers={"Authorization": f"Bearer {token}"})
        assert status == 503
        assert "signing keys" in caplog.text
        assert all(r.exc_info is None for r in caplog.records)
        await _nothing_written(h)


async def test_failing_key_endpoint_is_503(sqlite_db, tmp_path, openid):
    openid.status = 500
    async with Harness(sqlite_db, tmp_path, _config(openid)) as h:
        token = openid.token(app_id=APP_ID, service_url=h.connector.service_url)
        status, _ = await h.post(h.activity("message_personal"), headers={"Authorization": f"Bearer {token}"})
        assert status == 503


async def test_a_stalled_key_endpoint_times_out_and_does_not_block_the_server(sqlite_db, tmp_path, openid):
    openid.hang = True
    async with Harness(sqlite_db, tmp_path, _config(openid)) as h:
        assert h.runtime is not None and h.runtime.validator is not None
        h.runtime.validator.keys.timeout_seconds = 0.3
        token = openid.token(app_id=APP_ID, service_url=h.connector.service_url)
        status, _ = await h.post(h.activity("message_personal"), headers={"Authorization": f"Bearer {token}"})
        assert status == 503


async def test_hundred_thousand_nested_brackets_get_400(sqlite_db, tmp_path, caplog):
    async with Harness(sqlite_db, tmp_path) as h:
        with caplog.at_level(logging.INFO):
            status, _ = await h.post("[" * 100_000 + "]" * 100_000)
            assert status == 400
            raw = h.activity("message_personal")
            nested: object = "x"
            for _ in range(500):
                nested = [nested]
            raw["channelData"]["deep"] = nested
            status, _ = await h.post(raw)
            assert status == 400
        assert all(r.exc_info is None for r in caplog.records)
        await _nothing_written(h)
