"""Reading a downloaded file's body without letting a large one fill the memory (both adapters use it)."""

from __future__ import annotations

import aiohttp

CHUNK = 64 * 1024


class TooBig(Exception):
    """The body is over the limit; ``size`` is what the server announced, when it did."""

    def __init__(self, size: int | None = None) -> None:
        super().__init__(size)
        self.size = size


async def read_capped(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The whole body, or ``TooBig`` as soon as the announced length or the bytes read pass ``limit``."""
    if response.content_length is not None and response.content_length > limit:
        raise TooBig(response.content_length)
    body = bytearray()
    async for chunk in response.content.iter_chunked(CHUNK):
        body.extend(chunk)
        if len(body) > limit:
            raise TooBig()
    return bytes(body)
