"""Files people send the bot in Teams: finding them on the activity and downloading them safely.

In a 1:1 chat (with ``supportsFiles`` in the manifest) Teams stores the file in the sender's OneDrive and
puts a ``file.download.info`` attachment on the message, whose ``downloadUrl`` is short-lived and
pre-authenticated: a plain GET, no bearer token. Channels and group chats never carry that attachment.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp

from adapters.capped import TooBig, read_capped

log = logging.getLogger("tandem.teams")

FILE_DOWNLOAD_INFO = "application/vnd.microsoft.teams.file.download.info"
REFERENCE = "reference"  # how a file shared in a channel shows up (a SharePoint link, nothing to download)
MAX_BYTES = 5 * 1024 * 1024
TIMEOUT_SECONDS = 30.0
MAX_REDIRECTS = 3
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class SentFile:
    """One file on a message: its name and where to fetch it (``None`` when Teams gave no download URL)."""

    name: str
    download_url: str | None
    file_type: str | None = None
    unique_id: str | None = None


class DownloadError(Exception):
    """The file could not be fetched; the message is one line meant for the person who sent it."""


def sent_files(raw: dict[str, Any]) -> list[SentFile]:
    """The files attached to a message: ``file.download.info`` ones, and channel ``reference`` links."""
    files: list[SentFile] = []
    for attachment in raw.get("attachments") or []:
        if not isinstance(attachment, dict):
            continue
        kind = attachment.get("contentType")
        content = attachment.get("content")
        if not isinstance(content, dict):
            content = {}
        if kind == FILE_DOWNLOAD_INFO:
            url = content.get("downloadUrl")
            file_type = content.get("fileType")
            name = attachment.get("name") or (f"upload.{file_type}" if isinstance(file_type, str) else "upload")
            files.append(
                SentFile(
                    name=str(name)[:255],
                    download_url=url if isinstance(url, str) and url else None,
                    file_type=file_type if isinstance(file_type, str) else None,
                    unique_id=content.get("uniqueId") if isinstance(content.get("uniqueId"), str) else None,
                )
            )
        elif kind == REFERENCE and attachment.get("name"):
            files.append(SentFile(name=str(attachment["name"])[:255], download_url=None))
    return files


def _size_text(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"


class FileDownloader:
    """Fetches a sent file without blocking the event loop: a time limit, a size cap, HTTPS only.

    ``allow_loopback_http`` lets tests serve files from a fake on 127.0.0.1 over plain HTTP; it never opens
    plain HTTP to any other host."""

    def __init__(
        self, *, max_bytes: int = MAX_BYTES, timeout: float = TIMEOUT_SECONDS, allow_loopback_http: bool = False
    ) -> None:
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.allow_loopback_http = allow_loopback_http

    def allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme == "https" and parts.hostname:
            return True
        return self.allow_loopback_http and parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS

    async def fetch(self, file: SentFile) -> bytes:
        """The file's bytes, or ``DownloadError`` saying in one line why not."""
        if not file.download_url:
            raise DownloadError(f"Teams didn't give me a way to download {file.name}; please send it again.")
        url = file.download_url
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                for _hop in range(MAX_REDIRECTS + 1):
                    if not self.allowed(url):
                        log.warning("teams: refused to download %s from a non-HTTPS address", file.name)
                        raise DownloadError(
                            f"I can only download files from a secure (https) address, so I couldn't read {file.name}."
                        )
                    async with session.get(url, allow_redirects=False) as response:
                        if response.status in (301, 302, 303, 307, 308) and response.headers.get("Location"):
                            url = urljoin(url, response.headers["Location"])
                            continue
                        return await self._body(file, response)
                raise DownloadError(f"Downloading {file.name} went through too many redirects; please send it again.")
        except DownloadError:
            raise
        except TimeoutError:
            log.warning("teams: downloading %s timed out", file.name)
            raise DownloadError(f"Downloading {file.name} took too long; please send it again.") from None
        except aiohttp.ClientError as exc:
            log.warning("teams: downloading %s failed: %s", file.name, exc)
            raise DownloadError(f"I couldn't download {file.name}; please send it again.") from None

    async def _body(self, file: SentFile, response: aiohttp.ClientResponse) -> bytes:
        if response.status != 200:
            log.warning("teams: downloading %s answered HTTP %d", file.name, response.status)
            raise DownloadError(
                f"I couldn't download {file.name} (Teams answered {response.status}); please send it again."
            )
        too_big = DownloadError(
            f"{file.name} is too big: files up to {_size_text(self.max_bytes)} please "
            "(split the list into several files)."
        )
        try:
            return await read_capped(response, self.max_bytes)
        except TooBig:
            raise too_big from None
