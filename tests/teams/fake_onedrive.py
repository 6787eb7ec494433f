"""A fake OneDrive upload session on 127.0.0.1: what a Teams file-consent ``uploadUrl`` points at.

Records every PUT (headers and exact bytes) and answers like OneDrive does when the last byte range of an
upload session arrives: 201 Created with the new driveItem. Can be told to fail the next PUTs.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web


@dataclass
class Upload:
    path: str
    headers: dict[str, str]
    body: bytes


class FakeOneDrive:
    def __init__(self) -> None:
        self.uploads: list[Upload] = []
        self._failures: list[int] = []
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    def url(self, session: str) -> str:
        return f"{self.base_url}/up/{session}"

    def fail_next(self, status: int) -> None:
        self._failures.append(status)

    async def start(self) -> FakeOneDrive:
        app = web.Application()
        app.router.add_put("/up/{session}", self._put)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _put(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.uploads.append(Upload(request.path, dict(request.headers), body))
        if self._failures:
            status = self._failures.pop(0)
            return web.json_response(
                {"error": {"code": "serviceNotAvailable", "message": "The service is not available."}}, status=status
            )
        session = request.match_info["session"]
        return web.json_response(
            {"id": f"01BYE5RZ{session.upper()}", "name": f"{session}.csv", "size": len(body), "file": {}},
            status=201,
        )
