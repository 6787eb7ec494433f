"""What an operator watches: /livez, /readyz, /metrics, the Teams manifest's pages, JSON logs, a clean SIGTERM."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from adapters.metrics import rate_limited
from bot.core import Tandem
from storage.database import Database, open_database, upgrade
from storage.tables import Delivery, Workspace
from tandem.logs import configure_logging
from tandem.server import build_core, serve
from tandem.settings import load_settings
from tandem.ticker import Ticker
from tests.cli.test_cli_serve import free_port


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[tuple[str, Database]]:
    db = open_database(f"sqlite:///{tmp_path / 'o.db'}")
    await upgrade(db)
    settings = load_settings(TANDEM_PORT=free_port(), TANDEM_SCHEDULER=False)
    ready, stop = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(serve(build_core(db, settings), settings, ready=ready, stop=stop))
    await asyncio.wait_for(ready.wait(), 10)
    yield f"http://127.0.0.1:{settings.port}", db
    stop.set()
    await task
    await db.dispose()


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        return resp.status, await resp.text()


def sample(text: str, name: str) -> float | None:
    """The value of one sample line (``name`` with its labels) in Prometheus' text format."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return None


async def test_probes_and_pages(server: tuple[str, Database]) -> None:
    base, _ = server
    assert await get(f"{base}/livez") == (200, '{"status": "alive"}')
    status, body = await get(f"{base}/readyz")
    assert status == 200 and json.loads(body) == {"status": "ready", "problems": []}
    for path, title in (("/privacy", "Privacy"), ("/terms", "Terms of use")):
        status, page = await get(base + path)
        assert status == 200 and f"<h1>{title}</h1>" in page


async def test_readyz_is_503_when_the_schema_is_behind(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'empty.db'}")
    settings = load_settings(TANDEM_PORT=free_port(), TANDEM_SCHEDULER=False)
    ready, stop = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(serve(build_core(db, settings), settings, ready=ready, stop=stop))
    await asyncio.wait_for(ready.wait(), 10)
    try:
        status, body = await get(f"http://127.0.0.1:{settings.port}/readyz")
        assert status == 503 and "tandem db upgrade" in json.loads(body)["problems"][0]
        assert (await get(f"http://127.0.0.1:{settings.port}/livez"))[0] == 200
    finally:
        stop.set()
        await task
        await db.dispose()


async def test_metrics_count_messages_from_the_database(server: tuple[str, Database]) -> None:
    base, db = server
    now = datetime.now(UTC)
    async with db.transaction() as session:
        workspace = Workspace(platform="slack", external_id="T1", name="Acme")
        session.add(workspace)
        await session.flush()
        rows = [("pending", None), ("pending", now + timedelta(hours=3)), ("sent", None), ("failed", None)]
        for n, (state, later) in enumerate(rows):
            session.add(
                Delivery(
                    idempotency_key=f"k{n}",
                    workspace_id=workspace.id or 0,
                    step="intro",
                    state=state,
                    next_attempt_at=later,
                )
            )
    rate_limited("slack", "chat.postMessage")
    status, text = await get(f"{base}/metrics")
    assert status == 200
    assert sample(text, 'tandem_messages{state="waiting"}') == 1.0
    assert sample(text, 'tandem_messages{state="held"}') == 1.0
    assert sample(text, 'tandem_messages{state="sent"}') == 1.0
    assert sample(text, 'tandem_messages{state="failed"}') == 1.0
    assert sample(text, "tandem_database_up") == 1.0
    assert (sample(text, 'tandem_rate_limited_total{method="chat.postMessage",platform="slack"}') or 0) >= 1.0
    assert "tandem_scheduler_tick_seconds_bucket" in text


def test_json_logs_are_one_object_per_line() -> None:
    stream = io.StringIO()
    before = logging.getLogger().handlers[:], logging.getLogger().level
    try:
        configure_logging("INFO", "json", stream=stream)
        logging.getLogger("tandem.server").info("listening on %s", "127.0.0.1:3978")
    finally:
        logging.getLogger().handlers[:], _ = before
        logging.getLogger().setLevel(before[1])
    record = json.loads(stream.getvalue().strip())
    assert record["message"] == "listening on 127.0.0.1:3978"
    assert record["level"] == "INFO" and record["logger"] == "tandem.server" and "time" in record


def test_json_log_format_is_a_setting() -> None:
    assert load_settings(TANDEM_LOG_FORMAT="json").log_format == "json"
    with pytest.raises(ValueError, match="TANDEM_LOG_FORMAT"):
        load_settings(TANDEM_LOG_FORMAT="xml")


async def test_a_running_tick_finishes_before_the_scheduler_stops(
    sqlite_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """SIGTERM in the middle of a tick: the tick completes, no CancelledError, no ERROR."""
    core = Tandem(sqlite_db)
    started, release, finished = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def slow_tick(**_: object) -> None:
        started.set()
        await release.wait()
        finished.set()

    core.tick = slow_tick  # type: ignore[method-assign]
    ticker, stop = Ticker(core, None, interval=3600), asyncio.Event()
    task = asyncio.create_task(ticker.run(stop))
    await asyncio.wait_for(started.wait(), 10)
    stop.set()
    stopping = asyncio.create_task(ticker.stop(task, grace=30))
    await asyncio.sleep(0)
    assert not stopping.done() and not finished.is_set()  # still waiting for the tick
    release.set()
    await asyncio.wait_for(stopping, 10)
    assert finished.is_set() and task.done() and not task.cancelled()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_tick_that_overruns_the_grace_is_stopped_with_a_warning(
    sqlite_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    core = Tandem(sqlite_db)
    started = asyncio.Event()

    async def stuck_tick(**_: object) -> None:
        started.set()
        await asyncio.Event().wait()

    core.tick = stuck_tick  # type: ignore[method-assign]
    ticker, stop = Ticker(core, None, interval=3600), asyncio.Event()
    task = asyncio.create_task(ticker.run(stop))
    await asyncio.wait_for(started.wait(), 10)
    stop.set()
    await ticker.stop(task, grace=0.05)
    assert task.cancelled()
    assert [r.levelname for r in caplog.records if "did not finish" in r.getMessage()] == ["WARNING"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
