"""Files people send Tandem in its DM (a participants CSV): look them up and download them from Slack, safely.

Slack serves a shared file only with the bot token (``Authorization: Bearer xoxb-…``), and the file's address
comes from the event payload. So the token only ever goes to Slack's file host (``files.slack.com``) or the
configured Web API host (tests point that at a fake on 127.0.0.1); any other address is refused, and a
redirect elsewhere is followed (https only) without the token. Downloads are capped in size and time, and
every way they fail becomes a one-line answer (``FileProblem``) that never contains the token.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
from yarl import URL

from adapters.capped import TooBig, read_capped
from adapters.slack.clients import NoToken, SlackClients
from adapters.slack.port import SlackPort
from bot.kernel.port import SendError

log = logging.getLogger("tandem.slack")

FILE_HOST = "files.slack.com"
MAX_REDIRECTS = 3
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
TRY_AGAIN = "please send it again"


class FileProblem(Exception):
    """Why a file could not be fetched, worded for the person who sent it (one line, no secrets)."""


@dataclass(frozen=True)
class Fetched:
    file_id: str
    filename: str
    content: bytes


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")


def name_of(file: dict[str, Any]) -> str:
    return str(file.get("name") or file.get("title") or file.get("id") or "the file")


def needs_info(file: dict[str, Any]) -> bool:
    """Slack sometimes sends only a stub (``file_access: check_file_info``, or just an id): ask files.info."""
    has_url = bool(file.get("url_private_download") or file.get("url_private"))
    return file.get("file_access") == "check_file_info" or not has_url


class FileFetcher:
    """Downloads files shared with the bot, with the workspace's token, within ``limit`` bytes and ``timeout`` s."""

    def __init__(self, port: SlackPort, clients: SlackClients) -> None:
        self.port = port
        self.clients = clients
        config = clients.config
        self.limit = config.download_limit_bytes
        self.timeout = config.download_timeout
        base = URL(config.base_url)
        self._api_origin = (base.scheme, base.host, base.port)

    def trusted(self, url: URL) -> bool:
        """May this address see the bot token? Slack's file host over https, or the configured API host."""
        if (url.scheme, url.host, url.port) == self._api_origin:
            return True
        return url.scheme == "https" and url.host == FILE_HOST

    async def fetch(self, workspace_id: str, file: dict[str, Any]) -> Fetched:
        name = name_of(file)
        if needs_info(file):
            file = await self._info(workspace_id, file, name)
            name = name_of(file)
        self._check(file, name)
        raw_url = file.get("url_private_download") or file.get("url_private")
        if not raw_url:
            raise FileProblem(f"Slack gave me no download address for {name}; {TRY_AGAIN}.")
        url = URL(str(raw_url))
        if not self.trusted(url):
            log.warning("slack: refused to download file %s from %s (not Slack's file host)", file.get("id"), url.host)
            raise FileProblem(f"I couldn't download {name}: its address isn't on Slack's file server.")
        try:
            token = await self.clients.token_for(workspace_id)
        except NoToken as exc:
            raise FileProblem(f"I couldn't download {name}: Tandem has no Slack token for this workspace.") from exc
        content = await self._download(url, token, name)
        return Fetched(file_id=str(file.get("id") or ""), filename=name, content=content)

    async def _info(self, workspace_id: str, file: dict[str, Any], name: str) -> dict[str, Any]:
        file_id = file.get("id")
        if not file_id:
            raise FileProblem(f"Slack didn't say which file {name} is; {TRY_AGAIN}.")
        try:
            info = await self.port.file_info(workspace_id, str(file_id))
        except SendError as exc:
            reason = str(exc).removeprefix("files.info: ")
            if "missing_scope" in reason:
                raise FileProblem(
                    f"I can't read {name}: Tandem lacks Slack's files:read permission; ask whoever "
                    "runs Tandem to reinstall the app."
                ) from exc
            if "file_not_found" in reason or "file_deleted" in reason:
                raise FileProblem(f"I can't find {name} on Slack any more; {TRY_AGAIN}.") from exc
            raise FileProblem(f"I couldn't look up {name} on Slack ({reason}); {TRY_AGAIN}.") from exc
        return {**file, **info}

    def _check(self, file: dict[str, Any], name: str) -> None:
        """Refuse what can't or shouldn't be downloaded before spending a request on it."""
        mode = file.get("mode")
        if mode == "tombstone" or file.get("is_deleted"):
            raise FileProblem(f"{name} was deleted before I could read it; {TRY_AGAIN}.")
        if mode == "hidden_by_limit":
            raise FileProblem(f"Slack hides {name} from apps on this plan (file storage limit); send a newer copy.")
        if file.get("is_external") or mode == "external":
            raise FileProblem(f"{name} is a link to a file stored outside Slack; upload the file itself.")
        size = file.get("size")
        if isinstance(size, int) and size > self.limit:
            raise FileProblem(f"{name} is too big ({megabytes(size)}); I import files up to {megabytes(self.limit)}.")

    async def _download(self, url: URL, token: str, name: str) -> bytes:
        session = self.clients.http()
        per_request = aiohttp.ClientTimeout(total=self.timeout)
        try:
            async with asyncio.timeout(self.timeout):
                for _ in range(MAX_REDIRECTS + 1):
                    headers = {"Authorization": f"Bearer {token}"} if self.trusted(url) else {}
                    async with session.get(url, headers=headers, allow_redirects=False, timeout=per_request) as resp:
                        if resp.status in REDIRECT_STATUSES and resp.headers.get("Location"):
                            url = resp.url.join(URL(resp.headers["Location"]))
                            if not self.trusted(url) and url.scheme != "https":
                                raise FileProblem(_login_page(name))
                            continue
                        return await self._body(resp, name)
                raise FileProblem(f"I couldn't download {name}: Slack kept redirecting; {TRY_AGAIN}.")
        except TimeoutError as exc:
            raise FileProblem(f"Downloading {name} from Slack took too long; {TRY_AGAIN}.") from exc
        except aiohttp.ClientError as exc:
            log.warning("slack: downloading a file failed: %s", type(exc).__name__)
            raise FileProblem(f"I couldn't reach Slack to download {name}; {TRY_AGAIN}.") from exc

    async def _body(self, resp: aiohttp.ClientResponse, name: str) -> bytes:
        if resp.status != 200:
            log.warning("slack: file download answered HTTP %s", resp.status)
            raise FileProblem(f"I couldn't download {name} (Slack answered HTTP {resp.status}); {TRY_AGAIN}.")
        expects_html = name.lower().endswith((".html", ".htm"))
        if resp.content_type == "text/html" and not expects_html:
            raise FileProblem(_login_page(name))
        try:
            body = await read_capped(resp, self.limit)
        except TooBig as exc:
            size = megabytes(exc.size) if exc.size is not None else f"over {megabytes(self.limit)}"
            raise FileProblem(f"{name} is too big ({size}); I import files up to {megabytes(self.limit)}.") from None
        head = body[:256].lstrip().lower()
        if not expects_html and head.startswith((b"<!doctype html", b"<html")):
            raise FileProblem(_login_page(name))
        return body


def _login_page(name: str) -> str:
    return (
        f"I couldn't download {name}: Slack sent its sign-in page instead of the file. Tandem probably lacks "
        "the files:read permission; ask whoever runs Tandem to reinstall the app."
    )
