"""Over-long ids are refused up front; an over-long name is trimmed, never a failed write."""

from __future__ import annotations

import logging

import pytest

from tests.teams.teams_harness import Harness


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda raw: raw["from"].update(id="29:" + "x" * 300), id="from-id"),
        pytest.param(lambda raw: raw["recipient"].update(id="28:" + "x" * 300), id="recipient-id"),
        pytest.param(lambda raw: raw["conversation"].update(id="a:" + "x" * 600), id="conversation-id"),
        pytest.param(lambda raw: raw["channelData"]["tenant"].update(id="t" * 300), id="tenant-id"),
    ],
)
async def test_oversized_ids_get_400(sqlite_db, tmp_path, caplog, mutate):
    async with Harness(sqlite_db, tmp_path) as h:
        raw = h.activity("message_personal")
        mutate(raw)
        with caplog.at_level(logging.INFO):
            status, _ = await h.post(raw)
        assert status == 400
        assert h.core.events == []
        assert all(r.exc_info is None for r in caplog.records)


async def test_a_long_hostile_name_reaches_the_core_trimmed_and_clean(sqlite_db, tmp_path):
    async with Harness(sqlite_db, tmp_path) as h:
        raw = h.activity("message_personal")
        raw["from"]["name"] = "Ann\u202e\x1b" + "n" * 500
        status, _ = await h.post(raw)
        assert status in (200, 201)
        [event] = h.core.events
        assert event.actor.name is not None and len(event.actor.name) <= 200
        assert "\u202e" not in event.actor.name and "\x1b" not in event.actor.name
