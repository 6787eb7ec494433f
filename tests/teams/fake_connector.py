"""A fake Bot Connector (the service Teams bots call back) on 127.0.0.1, for end-to-end tests.

Answers the REST calls botbuilder makes with the response shapes recorded from real Teams traffic
(``tests/fixtures/teams/connector_rest``), records every request, and can be told to fail the next
matching requests (429 / 502 / 403 MessageWritesBlocked) to exercise retries and "gone" handling.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from tests.support.fixtures import load_json, read_text

PREFIX = "/amer/"  # Teams service URLs carry a region path; keep one so path handling is exercised


@dataclass
class Call:
    method: str
    path: str  # decoded, without PREFIX
    segments: list[str]
    query: dict[str, str]
    body: Any
    headers: dict[str, str]


@dataclass
class Fault:
    method: str
    contains: str
    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1
    after: int = 0  # matching requests to let through first


def recorded_members() -> list[dict[str, Any]]:
    """The three TeamsChannelAccount objects of the recorded ``GET .../members`` response."""
    recording = load_json("teams", "connector_rest", "recorded", "GET_v3_conversations_id_members.recording.json")
    return recording["response"]


def blocked_403_body() -> str:
    """The documented 403 body Teams sends when the user blocked or removed the bot."""
    raw = read_text("teams", "connector_rest", "error_403_MessageWritesBlocked.http")
    return raw.split("\n\n", 1)[1].strip()


class FakeConnector:
    def __init__(self, members: list[dict[str, Any]] | None = None) -> None:
        self.calls: list[Call] = []
        self.faults: list[Fault] = []
        self.members: list[dict[str, Any]] = list(members or [])
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self.channel_names: dict[str, str] = {}  # channels besides General in the team's channel list
        self.fail_every = 0  # when set, every n-th POST (create chat or send) is answered 500 ServiceError
        self.answered_500 = 0
        self._posts = 0

    # --- control --------------------------------------------------------------------------------------

    @property
    def service_url(self) -> str:
        return self.base_url + PREFIX

    def fail(
        self,
        method: str,
        contains: str,
        status: int,
        body: str = "",
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
        after: int = 0,
    ) -> None:
        """Answer the next ``times`` requests whose method matches and decoded path contains ``contains``
        (after letting ``after`` of them through)."""
        self.faults.append(Fault(method, contains, status, body, headers or {}, times, after))

    def calls_to(self, method: str, contains: str = "") -> list[Call]:
        return [c for c in self.calls if c.method == method and contains in c.path]

    # --- server ---------------------------------------------------------------------------------------

    async def start(self) -> FakeConnector:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        raw_path = request.rel_url.raw_path
        if not raw_path.startswith(PREFIX):
            return web.json_response({"error": {"code": "BadPath", "message": raw_path}}, status=404)
        segments = [unquote(s) for s in raw_path[len(PREFIX) :].split("/") if s]
        text = await request.text()
        body = json.loads(text) if text else None
        call = Call(request.method, "/".join(segments), segments, dict(request.query), body, dict(request.headers))
        self.calls.append(call)
        for fault in self.faults:
            if fault.times > 0 and fault.method == request.method and fault.contains in call.path:
                if fault.after > 0:
                    fault.after -= 1
                    continue
                fault.times -= 1
                return web.Response(
                    status=fault.status, text=fault.body, headers=fault.headers, content_type="application/json"
                )
        if self.fail_every and request.method == "POST":
            self._posts += 1
            if self._posts % self.fail_every == 0:
                self.answered_500 += 1
                return _error(500, "ServiceError", "Unknown error")
        return self._route(call)

    def _route(self, call: Call) -> web.Response:
        seg = call.segments
        if call.method == "GET" and seg[:2] == ["v3", "teams"] and len(seg) == 4 and seg[3] == "conversations":
            # the team's channels; the General channel (id = the team's id) comes without a name, as in Teams
            listed = [{"id": seg[2]}] + [{"id": cid, "name": name} for cid, name in self.channel_names.items()]
            return web.json_response({"conversations": listed})
        if seg[:2] != ["v3", "conversations"]:
            return _error(404, "NotFound", call.path)
        if call.method == "POST" and len(seg) == 2:
            # create conversation → ConversationResourceResponse, 201 like the recorded Teams answer
            member = (call.body or {}).get("members") or [{}]
            conversation_id = f"a:fake-personal-{member[0].get('id', 'x')}"
            return web.json_response({"id": conversation_id, "activityId": f"1:{next(self._ids)}"}, status=201)
        if len(seg) >= 4 and seg[3] == "activities":
            if call.method == "POST":
                return web.json_response({"id": f"1:act-{next(self._ids)}"}, status=201)
            if call.method == "PUT" and len(seg) == 5:
                return web.json_response({"id": seg[4]}, status=200)
        if call.method == "GET" and len(seg) == 5 and seg[3] == "members":
            for member in self.members:
                if member["id"] == seg[4]:
                    return web.json_response(member)
            return _error(404, "MemberNotFoundInConversation", seg[4])
        if call.method == "GET" and len(seg) == 4 and seg[3] == "members":
            return web.json_response(self.members)
        if call.method == "GET" and len(seg) == 4 and seg[3] == "pagedmembers":
            return self._paged(call)
        return _error(404, "NotFound", call.path)

    def _paged(self, call: Call) -> web.Response:
        size = int(call.query.get("pageSize") or 500)
        start = int(call.query.get("continuationToken") or 0)
        page = self.members[start : start + size]
        body: dict[str, Any] = {"members": page}
        if start + size < len(self.members):
            body["continuationToken"] = str(start + size)
        return web.json_response(body)


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)
