"""Log set-up for `tandem serve` (plain text or one JSON object per line) and the demo's error counter."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOG_FORMATS = ("text", "json")


def configure_logging(level: str, fmt: str = "text", stream: TextIO | None = None) -> None:
    """Replace the root handlers: TANDEM_LOG_FORMAT=json gives one JSON object per line for log shippers."""
    handler = logging.StreamHandler(stream or sys.stderr)
    if fmt == "json":
        from pythonjsonlogger.json import JsonFormatter

        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                timestamp=False,
            )
        )
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(getattr(logging, level.upper(), logging.INFO))


class ErrorCounter(logging.Handler):
    """Counts ERROR records (a failed step logs one) and shows each as one line on stderr, no traceback."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(logging.ERROR)
        self.count = 0
        self.stream = stream

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        reason = ""
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            reason = f" ({type(exc).__name__}: {' '.join(str(exc).split())[:200]})"
        print(f"tandem: {record.name}: {record.getMessage()}{reason}", file=self.stream or sys.stderr)
