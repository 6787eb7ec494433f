"""aiohttp logs a malformed HTTP request (a 10 kB header line, garbage on the port) with a full traceback.

Anyone who can reach the port could fill the log that way, so such records become one warning line. Real
server errors (5xx) keep their traceback.
"""

from __future__ import annotations

import logging

from aiohttp.http_exceptions import HttpProcessingError


class QuietBadRequests(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError) and (exc.code or 400) < 500:
            record.msg = "refused a malformed HTTP request (%s): %s"
            record.args = (exc.code or 400, str(exc.message)[:200])
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def install() -> None:
    """Once per process: every aiohttp server in it logs malformed requests in one line."""
    server_log = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, QuietBadRequests) for f in server_log.filters):
        server_log.addFilter(QuietBadRequests())
