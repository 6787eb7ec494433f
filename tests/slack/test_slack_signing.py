"""Requests Slack didn't sign (or signed too long ago) are refused with 401 and change nothing."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func
from sqlmodel import select

from storage.tables import ProcessedEvent, Workspace
from tests.slack.slack_support import SECRET, json_request, load, sign


async def _nothing_happened(h) -> None:  # noqa: ANN001
    await h.settle()
    assert h.fake.calls == []
    async with h.core.db.session() as s:
        assert (await s.exec(select(func.count()).select_from(Workspace))).one() == 0
        assert (await s.exec(select(func.count()).select_from(ProcessedEvent))).one() == 0


@pytest.mark.parametrize(
    "case",
    ["bad_signature", "old_timestamp", "future_timestamp", "missing_headers", "garbage_timestamp", "other_secret"],
)
async def test_unsigned_requests_get_401(harness, conformance, case: str) -> None:  # noqa: ANN001
    payload = load("events/event_callback_app_mention.json")
    body, headers = json_request(payload)
    if case == "bad_signature":
        headers["X-Slack-Signature"] = "v0=" + "0" * 64
    elif case == "old_timestamp":
        headers.update(sign(body, timestamp=int(time.time()) - 301))
    elif case == "future_timestamp":
        headers.update(sign(body, timestamp=int(time.time()) + 301))
    elif case == "missing_headers":
        del headers["X-Slack-Signature"], headers["X-Slack-Request-Timestamp"]
    elif case == "garbage_timestamp":
        headers["X-Slack-Request-Timestamp"] = "yesterday"
    elif case == "other_secret":
        headers.update(sign(body, secret="not-" + SECRET))
    resp = await harness.post(body, headers)
    assert resp.status == 401
    assert await resp.json() == {"error": "invalid request"}
    await _nothing_happened(harness)


async def test_slack_test_vector_is_refused_because_it_is_stale(harness, conformance) -> None:  # noqa: ANN001
    """Slack's published example is correctly signed, but in 2018: the 5-minute window rejects it."""
    vector = load("signing/test_vector.json")
    resp = await harness.post(vector["body"].encode(), dict(vector["headers"]))
    assert resp.status == 401
    await _nothing_happened(harness)


async def test_url_verification_answers_the_challenge(harness, conformance) -> None:  # noqa: ANN001
    payload = load("events/url_verification.json")
    resp = await harness.event(payload)
    assert resp.status == 200
    assert (await resp.json())["challenge"] == payload["challenge"]


async def test_url_verification_must_be_signed_too(harness, conformance) -> None:  # noqa: ANN001
    payload = load("events/url_verification.json")
    body, headers = json_request(payload, secret="wrong")
    resp = await harness.post(body, headers)
    assert resp.status == 401


@pytest.mark.parametrize("body", [b"{not json", b"payload=%7Bbroken", b"[]", b""])
async def test_malformed_signed_bodies_get_400(harness, body: bytes) -> None:  # noqa: ANN001
    ctype = "application/json" if body[:1] in (b"{", b"[") else "application/x-www-form-urlencoded"
    resp = await harness.post(body, {"Content-Type": ctype, **sign(body)})
    assert resp.status == 400
    await _nothing_happened(harness)
