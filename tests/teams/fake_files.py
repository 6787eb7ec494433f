"""A fake OneDrive/SharePoint download host on 127.0.0.1: where a ``file.download.info`` downloadUrl points.

Teams' downloadUrl is pre-authenticated (a ``tempauth`` query), so the real host answers a plain GET with the
file's bytes; this one does the same, records every request, and can answer with an error, stream a body
without a Content-Length, or never answer (to exercise the bot's time limit).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Served:
    body: bytes
    status: int = 200
    chunked: bool = False  # stream without a Content-Length
    hang: bool = False  # never answer
    location: str | None = None  # answer with a redirect instead


@dataclass
class FakeFileHost:
    files: dict[str, Served] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    base_url: str = ""
    _runner: web.AppRunner | None = None
    _never: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> FakeFileHost:
        app = web.Application()
        app.router.add_get("/personal/{user}/_layouts/15/download.aspx", self._download)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def stop(self) -> None:
        self._never.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def serve(self, body: bytes, **options: Any) -> str:
        """Host ``body``; returns the pre-authenticated download URL Teams would put on the attachment."""
        unique_id = str(uuid.uuid4()).upper()
        self.files[unique_id] = Served(body, **options)
        return (
            f"{self.base_url}/personal/sam_contoso_example/_layouts/15/download.aspx"
            f"?UniqueId={unique_id}&Translate=false&tempauth=v1.eyJ0ZXN0IjoidGVzdCJ9&ApiVersion=2.0"
        )

    async def _download(self, request: web.Request) -> web.StreamResponse:
        unique_id = request.query.get("UniqueId", "")
        self.requests.append(unique_id)
        served = self.files.get(unique_id)
        if served is None or not request.query.get("tempauth"):
            return web.json_response({"error": {"code": "accessDenied", "message": "Access denied"}}, status=401)
        if served.hang:
            await self._never.wait()
        if served.location:
            raise web.HTTPFound(served.location)
        if served.status != 200:
            return web.json_response({"error": {"code": "generalException", "message": "failed"}}, status=served.status)
        if not served.chunked:
            return web.Response(body=served.body, content_type="application/octet-stream")
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for start in range(0, len(served.body), 64 * 1024):
            await response.write(served.body[start : start + 64 * 1024])
        await response.write_eof()
        return response
