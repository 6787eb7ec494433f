"""`tandem serve`: health check over real HTTP and a clean shutdown on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import select
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp

from storage.database import head_revision, open_database, upgrade
from tandem.server import build_core, serve
from tandem.settings import load_settings

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_healthz_reports_the_database(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'h.db'}")
    await upgrade(db)
    settings = load_settings(TANDEM_PORT=free_port(), TANDEM_SCHEDULER=False)
    ready, stop = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(serve(build_core(db, settings), settings, ready=ready, stop=stop))
    await asyncio.wait_for(ready.wait(), 10)
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{settings.port}/healthz") as resp:
                body = await resp.json()
                assert resp.status == 200 and body["database"] == "ok" and body["revision"] == head_revision()
    finally:
        stop.set()
        await task
        await db.dispose()


async def test_healthz_is_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'missing' / 'x.db'}")
    settings = load_settings(TANDEM_PORT=free_port(), TANDEM_SCHEDULER=False)
    ready, stop = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(serve(build_core(db, settings), settings, ready=ready, stop=stop))
    await asyncio.wait_for(ready.wait(), 10)
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{settings.port}/healthz") as resp:
                body = await resp.json()
                assert resp.status == 503 and body["database"] == "unreachable"
    finally:
        stop.set()
        await task
        await db.dispose()


def test_sigterm_shuts_down_cleanly(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TANDEM_", "SLACK_", "MICROSOFT_"))}
    env.update(PYTHONPATH=str(REPO), TANDEM_PORT=str(port), TANDEM_SCHEDULER="true")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tandem.cli", "serve"],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
    )
    try:
        seen = b""
        fd = proc.stderr.fileno()
        while b"listening" not in seen:
            ready, _, _ = select.select([fd], [], [], 60)
            assert ready, f"server did not start: {seen!r}"
            chunk = os.read(fd, 4096)  # unbuffered: select() and a buffered readline() disagree
            assert chunk, f"server exited: {seen!r}"
            seen += chunk
        proc.send_signal(signal.SIGTERM)  # the first scheduler tick may well be running: it finishes first
        assert proc.wait(timeout=30) == 0
        seen += proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
    log = seen.decode()
    assert "shutting down" in log and " ERROR " not in log and "CancelledError" not in log, log
