"""A fake Slack Web API on 127.0.0.1 for tests and benchmarks.

It records every call, answers with Slack's documented response shapes (read from the recorded
fixtures in tests/fixtures), and can inject 429 (with Retry-After), 500s, API errors and hangs. Waiting is
condition-based (``wait_for``), never sleep-based.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import itertools
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.support.fixtures import load_json, read_text

TEAM_ID = "T111"
ENTERPRISE_ID = "E111"
BOT_USER_ID = "W23456789"  # the bot user id bolt-python's tests use (see member_joined_channel_bot_itself)
BOT_ID = "B111"

# auth.test is not among the conformance fixtures; this is the example answer on Slack's method page
# (https://api.slack.com/methods/auth.test), with ids matching the conformance payloads' workspace.
AUTH_TEST = {
    "ok": True,
    "url": "https://subarachnoid.slack.com/",
    "team": "Subarachnoid Workspace",
    "user": "grace",
    "team_id": TEAM_ID,
    "user_id": BOT_USER_ID,
    "bot_id": BOT_ID,
    "enterprise_id": ENTERPRISE_ID,
    "is_enterprise_install": False,
}


# What files.slack.com answers a download without a valid token: the workspace's sign-in page, as HTML.
LOGIN_PAGE = '<!DOCTYPE html><html lang="en-US"><head><title>Slack</title></head><body>Sign in</body></html>'


def _load(name: str) -> dict[str, Any]:
    """A documented Web API answer from ``tests/fixtures/slack/web_api``."""
    return load_json("slack", "web_api", name)


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    token: str | None
    at: float
    status: int = 200
    ok: bool = True


@dataclass
class Fault:
    kind: str  # "429", "500", "hang", or an API error code
    retry_after: int = 1


@dataclass
class FakeSlack:
    """Start with ``await fake.start()``; ``fake.api_url`` is the base URL for the WebClient."""

    admins: set[str] = field(default_factory=set)
    rate_per_second: float | None = None  # when set, calls beyond this rate are answered 429
    random_429: float = 0.0  # fraction of calls answered 429 at random (benchmarks)
    fail_every: int = 0  # when set, every n-th Web API call (auth.test aside) is answered with an HTTP 500
    seed: int = 7
    calls: list[Call] = field(default_factory=list)
    hooks: list[dict[str, Any]] = field(default_factory=list)
    granted_scopes: tuple[str, ...] | None = None  # auth.test answers them in x-oauth-scopes, as Slack does

    def __post_init__(self) -> None:
        self._faults: dict[str, list[Fault]] = {}
        self._changed = asyncio.Condition()
        self._ts = itertools.count(1)
        self._groups: dict[str, str] = {}
        self._release = asyncio.Event()
        self._rng = random.Random(self.seed)
        self._next_free: dict[str, float] = {}
        self.answered_429 = 0
        self.answered_500 = 0
        self._counted = 0  # calls counted towards ``fail_every``
        self.server: TestServer | None = None
        self.envelopes: list[dict[str, Any]] = []  # Socket Mode: pushed to each new connection
        self.socket_acks: list[dict[str, Any]] = []
        self.sockets: list[web.WebSocketResponse] = []
        self.post_ok = _load("chat.postMessage.ok.json")
        self.open_ok = _load("conversations.open.ok.json")
        self.users_ok = _load("users.info.ok.json")
        self.members_ok = _load("conversations.members.ok.json")
        self.thread_replies: dict[str, list[dict[str, Any]]] = {}  # thread ts → conversations.replies messages
        self.channel_names: dict[str, str] = {"C111": "coffee-chats"}  # conversations.info: channel id → name
        self.emails: dict[str, str] = {}  # users.lookupByEmail directory: e-mail → user id
        self.channels: dict[str, list[str]] = {}  # conversations.members: channel id → member ids (paged)
        self.bots: set[str] = set()  # users.info answers is_bot for these ids
        self.deactivated: set[str] = set()  # ... and deleted for these
        self.names: dict[str, str] = {}  # users.info display names other than "name-<id>"
        self.files: dict[str, dict[str, Any]] = {}  # files.info: file id → Slack file object
        self.file_bytes: dict[str, bytes] = {}  # what url_private(_download) serves, by file id
        self.body_429 = read_text("slack", "web_api", "rate_limited_429.body.json")

    # --- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/hooks/{tail:.*}", self._hook)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/files-pri/{tail:.*}", self._file)
        app.router.add_get("/socket", self._socket)
        app.router.add_get("/stats", self._stats)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()
        return self

    async def close(self) -> None:
        self._release.set()
        for ws in list(self.sockets):
            await ws.close()
        if self.server is not None:
            await self.server.close()

    @property
    def base(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.port}"

    @property
    def api_url(self) -> str:
        return self.base + "/api/"

    def hook_url(self, name: str = "cmd") -> str:
        return f"{self.base}/hooks/{name}"

    # --- test controls -----------------------------------------------------------------------------

    def add_file(
        self, name: str, content: bytes, *, user: str = "W222", file_id: str | None = None, host: str | None = None
    ) -> dict[str, Any]:
        """A file someone shared, shaped like the documented file object; its bytes are served by the fake.

        ``host`` replaces the fake's own address in the URLs (e.g. to test that the token stays home).
        """
        fid = file_id or f"F{next(self._ts):08d}"
        base = host or self.base
        filetype = name.rsplit(".", 1)[-1].lower() if "." in name else "text"
        self.files[fid] = {
            "id": fid,
            "created": 1726133700,
            "timestamp": 1726133700,
            "name": name,
            "title": name,
            "mimetype": "text/csv" if filetype == "csv" else "application/octet-stream",
            "filetype": filetype,
            "pretty_type": filetype.upper(),
            "user": user,
            "user_team": TEAM_ID,
            "editable": False,
            "size": len(content),
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": False,
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": f"{base}/files-pri/{TEAM_ID}-{fid}/{name}",
            "url_private_download": f"{base}/files-pri/{TEAM_ID}-{fid}/download/{name}",
            "permalink": f"https://subarachnoid.slack.com/files/{user}/{fid}/{name}",
            "is_starred": False,
            "has_rich_preview": False,
            "file_access": "visible",
        }
        self.file_bytes[fid] = content
        return copy.deepcopy(self.files[fid])

    def fail_next(self, method: str, kind: str, times: int = 1, retry_after: int = 1, after: int = 0) -> None:
        """Answer the next ``times`` calls of ``method`` with a fault, once ``after`` calls went through."""
        queue = self._faults.setdefault(method, [])
        queue.extend(Fault("pass", 0) for _ in range(after))
        queue.extend(Fault(kind, retry_after) for _ in range(times))

    def called(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, method: str, count: int = 1, within: float = 10.0) -> list[Call]:
        """Until ``method`` has been called ``count`` times (hooks: method ``"hook"``)."""
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(lambda: len(self._calls_of(method)) >= count)
        return self._calls_of(method)

    def _calls_of(self, method: str) -> list[Any]:
        if method == "socket_ack":
            return self.socket_acks
        return self.hooks if method == "hook" else self.called(method)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # --- handlers ----------------------------------------------------------------------------------

    async def _args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            raw = await request.read()
            ctype = request.headers.get("Content-Type", "")
            if "json" in ctype:
                args.update(json.loads(raw or b"{}"))
            elif "form" in ctype:
                args.update(dict(parse_qsl(raw.decode())))
        for key in ("blocks", "view"):
            if isinstance(args.get(key), str):
                try:
                    args[key] = json.loads(args[key])
                except ValueError:
                    pass
        return args

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        args = await self._args(request)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth else args.get("token")
        call = Call(method, args, token, time.monotonic())
        self.calls.append(call)
        try:
            response = await self._respond(method, args)
            call.status = response.status
            call.ok = response.status == 200 and b'"ok": false' not in (response.body or b"")  # type: ignore[operator]
            return response
        finally:
            await self._notify()

    async def _respond(self, method: str, args: dict[str, Any]) -> web.Response:
        fault = self._take_fault(method)
        if fault is not None:
            return await self._fault(fault)
        if self.fail_every and method != "auth.test":
            self._counted += 1
            if self._counted % self.fail_every == 0:
                self.answered_500 += 1
                return await self._fault(Fault("500"))
        if method != "auth.test" and self._over_rate(method):
            return self._rate_limited(1)
        if self.random_429 and method != "auth.test" and self._rng.random() < self.random_429:
            return self._rate_limited(1)
        headers = {"x-oauth-scopes": ",".join(self.granted_scopes)} if self.granted_scopes is not None else None
        return web.json_response(self._answer(method, args), headers=headers if method == "auth.test" else None)

    def _take_fault(self, method: str) -> Fault | None:
        queue = self._faults.get(method)
        fault = queue.pop(0) if queue else None
        return None if fault is not None and fault.kind == "pass" else fault

    async def _fault(self, fault: Fault) -> web.Response:
        if fault.kind == "429":
            return self._rate_limited(fault.retry_after)
        if fault.kind == "500":
            return web.json_response({"ok": False, "error": "internal_error"}, status=500)
        if fault.kind == "hang":
            await self._release.wait()
            return web.json_response({"ok": False, "error": "request_timeout"})
        return web.json_response({"ok": False, "error": fault.kind})

    def _rate_limited(self, retry_after: int) -> web.Response:
        self.answered_429 += 1
        return web.Response(
            status=429, text=self.body_429, content_type="application/json", headers={"retry-after": str(retry_after)}
        )

    def _over_rate(self, method: str) -> bool:
        """Slack limits each method per workspace; so does the fake (with a burst of 5, like Slack allows)."""
        if not self.rate_per_second:
            return False
        now = time.monotonic()
        interval = 1.0 / self.rate_per_second
        slot = max(self._next_free.get(method, 0.0), now - 4 * interval)
        if slot > now:
            return True
        self._next_free[method] = slot + interval
        return False

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return dict(AUTH_TEST)
        if method == "apps.connections.open":
            return {"ok": True, "url": self.base.replace("http://", "ws://") + "/socket"}
        if method == "chat.postMessage":
            out = copy.deepcopy(self.post_ok)
            channel = str(args.get("channel", ""))
            if channel[:1] in ("U", "W"):
                channel = "D" + channel[1:]  # posting to a user id lands in their DM with the app
            ts = f"1700000000.{next(self._ts):06d}"
            out.update(channel=channel, ts=ts)
            out["message"] = {**out.get("message", {}), "ts": ts, "text": args.get("text", "")}
            return out
        if method == "conversations.open":
            users = ",".join(sorted(str(args.get("users", "")).split(",")))
            cid = self._groups.setdefault(users, f"G{len(self._groups) + 1:08d}")
            out = copy.deepcopy(self.open_ok)
            out["channel"] = {**out.get("channel", {}), "id": cid}
            return out
        if method == "users.info":
            out = copy.deepcopy(self.users_ok)
            uid = str(args.get("user", ""))
            out["user"].update(id=uid, team_id=TEAM_ID, is_admin=uid in self.admins, is_owner=False)
            out["user"].update(is_bot=uid in self.bots, deleted=uid in self.deactivated)
            out["user"]["profile"] = {
                **out["user"].get("profile", {}),
                "display_name": self.names.get(uid, f"name-{uid}"),
                "email": f"{uid.lower()}@example.com",
            }
            return out
        if method == "conversations.info":
            channel = str(args.get("channel", ""))
            if channel not in self.channel_names:
                return {"ok": False, "error": "channel_not_found"}
            return {"ok": True, "channel": {"id": channel, "name": self.channel_names[channel], "is_channel": True}}
        if method == "conversations.members":
            return self._members(args)
        if method == "users.lookupByEmail":
            email = str(args.get("email", ""))
            if email not in self.emails:
                return {"ok": False, "error": "users_not_found"}
            out = copy.deepcopy(self.users_ok)
            out["user"].update(id=self.emails[email], team_id=TEAM_ID, tz="Europe/Berlin")
            out["user"]["profile"] = {
                **out["user"].get("profile", {}),
                "display_name": f"name-{self.emails[email]}",
                "email": email,
            }
            return out
        if method == "conversations.replies":
            return {
                "ok": True,
                "messages": copy.deepcopy(self.thread_replies.get(str(args.get("ts")), [])),
                "has_more": False,
            }
        if method == "chat.getPermalink":
            return {
                "ok": True,
                "channel": args.get("channel"),
                "permalink": f"https://example.slack.com/archives/{args.get('channel')}/p{args.get('message_ts')}",
            }
        if method in ("views.open", "views.publish", "views.update"):
            return {"ok": True, "view": {"id": "V0001", **(args.get("view") or {})}}
        if method == "chat.update":
            return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts"), "text": args.get("text")}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"1700000000.{next(self._ts):06d}"}
        if method == "files.getUploadURLExternal":
            fid = f"F{next(self._ts):06d}"
            return {"ok": True, "upload_url": f"{self.base}/upload/{fid}", "file_id": fid}
        if method == "files.completeUploadExternal":
            files = args.get("files")
            files = json.loads(files) if isinstance(files, str) else files or []
            return {"ok": True, "files": [{"id": f.get("id"), "title": f.get("title", "")} for f in files]}
        if method == "files.info":
            fid = str(args.get("file", ""))
            if fid in self.files:
                return {
                    "ok": True,
                    "file": copy.deepcopy(self.files[fid]),
                    "comments": [],
                    "response_metadata": {"next_cursor": ""},
                }
            return {"ok": True, "file": {"id": fid}}  # files we uploaded ourselves (files_upload_v2 asks)
        return {"ok": True}

    def _members(self, args: dict[str, Any]) -> dict[str, Any]:
        """One page of a channel's members, in the documented shape; the cursor is an opaque offset."""
        channel = str(args.get("channel", ""))
        if channel not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        members = self.channels[channel]
        limit = int(args.get("limit") or 100)
        cursor = str(args.get("cursor") or "")
        start = int(base64.b64decode(cursor).decode().removeprefix("offset:")) if cursor else 0
        end = start + limit
        out = copy.deepcopy(self.members_ok)
        out["members"] = members[start:end]
        next_cursor = base64.b64encode(f"offset:{end}".encode()).decode() if end < len(members) else ""
        out["response_metadata"] = {"next_cursor": next_cursor}
        return out

    async def _hook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.hooks.append({"path": request.match_info["tail"], **body})
        await self._notify()
        return web.Response(text="ok")

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response({"hooks": len(self.hooks), "calls": len(self.calls)})

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        """Socket Mode: say hello, push the queued envelopes, record the app's acks."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_str(json.dumps({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A111"}}))
        for envelope in self.envelopes:
            await ws.send_str(json.dumps(envelope))
        async for msg in ws:
            if msg.type == web.WSMsgType.TEXT:
                self.socket_acks.append(json.loads(msg.data))
                await self._notify()
        self.sockets.remove(ws)
        return ws

    async def _file(self, request: web.Request) -> web.StreamResponse:
        """GET url_private(_download): the file's bytes, for a request with the bot token (method "download").

        Faults: "404"/"500", "html" (the sign-in page Slack serves without a valid token), "hang",
        "redirect:<url>" (a 302 to that address), "chunked" (the file without a Content-Length).
        """
        auth = request.headers.get("Authorization", "")
        tail = request.match_info["tail"]
        call = Call("download", {"path": tail}, auth.removeprefix("Bearer ") if auth else None, time.monotonic())
        self.calls.append(call)
        try:
            fault = self._take_fault("download")
            if fault is not None and fault.kind != "chunked":
                call.ok = False
                if fault.kind in ("404", "500"):
                    call.status = int(fault.kind)
                    return web.Response(status=call.status, text="Not Found" if fault.kind == "404" else "error")
                if fault.kind == "html":
                    return web.Response(text=LOGIN_PAGE, content_type="text/html")
                if fault.kind == "hang":
                    await self._release.wait()
                    return web.Response(status=504)
                if fault.kind.startswith("redirect:"):
                    call.status = 302
                    return web.Response(status=302, headers={"Location": fault.kind.removeprefix("redirect:")})
            fid = tail.split("/", 1)[0].removeprefix(f"{TEAM_ID}-")
            if fid not in self.file_bytes:
                call.status, call.ok = 404, False
                return web.Response(status=404, text="Not Found")
            if not auth.startswith("Bearer xoxb-"):
                call.ok = False
                return web.Response(text=LOGIN_PAGE, content_type="text/html")  # what Slack does without auth
            if fault is not None and fault.kind == "chunked":  # no Content-Length: the size shows only while reading
                stream = web.StreamResponse(headers={"Content-Type": "text/csv"})
                stream.enable_chunked_encoding()
                await stream.prepare(request)
                data = self.file_bytes[fid]
                for start in range(0, len(data), 256 * 1024):
                    await stream.write(data[start : start + 256 * 1024])
                await stream.write_eof()
                return stream
            return web.Response(body=self.file_bytes[fid], content_type="text/csv")
        finally:
            await self._notify()

    async def _upload(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.calls.append(
            Call("upload", {"file_id": request.match_info["file_id"], "body": body}, None, time.monotonic())
        )
        await self._notify()
        return web.Response(text="OK - 123")
