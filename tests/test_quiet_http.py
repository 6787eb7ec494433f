"""A malformed HTTP request to `tandem serve` is one warning line in the log, never a traceback."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from bot.core import Tandem
from storage.database import open_database, upgrade
from tandem.server import build_app
from tandem.settings import load_settings


async def _raw(port: int, request: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    answer = await reader.read(200)
    writer.close()
    return answer


async def test_oversized_header_and_garbage_are_one_line_each(tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    db = open_database(f"sqlite:///{tmp_path / 'q.db'}")
    await upgrade(db)
    runner = web.AppRunner(build_app(Tandem(db), load_settings()))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    try:
        with caplog.at_level(logging.INFO):
            long_header = b"GET /healthz HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + b"x" * 20_000 + b"\r\n\r\n"
            assert b" 400 " in await _raw(port, long_header)
            assert b" 400 " in await _raw(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\x00: y\r\n\r\n")
    finally:
        await runner.cleanup()
        await db.dispose()
    refused = [r for r in caplog.records if r.name == "aiohttp.server"]
    assert refused and all(r.exc_info is None and r.levelno == logging.WARNING for r in refused)
    assert "Traceback" not in caplog.text
