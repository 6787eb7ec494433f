"""Building outgoing Teams activities and making sense of connector errors."""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import ClientError
from botbuilder.schema import Activity, ActivityTypes, Attachment
from msrest.exceptions import ClientRequestError

from adapters.teams.cards import CARD_CONTENT_TYPE
from bot.kernel.messages import plain_words
from bot.kernel.port import SendError
from bot.kernel.safe_text import clean

log = logging.getLogger("tandem.teams")

RETRYABLE_STATUSES = frozenset({408, 412, 429})  # and every 5xx: a passing server error (see is_retryable)
GONE_STATUSES = frozenset({403, 404})


def card_activity(card: dict[str, Any], summary: str) -> Activity:
    """A message activity carrying one Adaptive Card; ``summary`` is what notifications show, in plain
    words (the card's first line when the message has none)."""
    first = next((b.get("text", "") for b in card.get("body") or [] if b.get("type") == "TextBlock"), "")
    return Activity(
        type=ActivityTypes.message,
        summary=clean(plain_words(summary) or plain_words(first)) or None,
        attachments=[Attachment(content_type=CARD_CONTENT_TYPE, content=card)],
    )


def status_of(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def retry_after_of(exc: BaseException) -> float | None:
    """Seconds from a Retry-After header, when the connector sends one (Teams rarely does)."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    try:
        value = next((v for k, v in dict(headers).items() if k.lower() == "retry-after"), None)
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def error_detail(exc: BaseException) -> str:
    """A one-line reason, including Teams' subCode (e.g. MessageWritesBlocked) when present."""
    response = getattr(exc, "response", None)
    text = ""
    try:
        body = getattr(response, "text", "")
        text = body() if callable(body) else (body or "")
    except Exception:  # noqa: BLE001 - a best-effort log detail only
        text = ""
    sub_code = ""
    try:
        body = json.loads(text) if text else {}
        message = body.get("message") if isinstance(body, dict) else None
        inner = json.loads(message) if isinstance(message, str) and message.strip().startswith("{") else {}
        sub_code = inner.get("subCode") or (body.get("error") or {}).get("code") or ""
    except (ValueError, AttributeError):
        pass
    status = status_of(exc)
    return " ".join(
        p
        for p in (
            f"HTTP {status}" if status else type(exc).__name__,
            sub_code,
            text[:200] if not sub_code else "",
        )
        if p
    )


def is_retryable(exc: BaseException) -> bool:
    status = status_of(exc)
    if status is not None:  # ErrorResponseException, or HttpOperationError from the Teams operations
        return status in RETRYABLE_STATUSES or status >= 500
    return isinstance(exc, ClientError | ClientRequestError | TimeoutError | ConnectionError)


def send_error(exc: BaseException) -> SendError:
    """Map a connector failure onto the core's ``SendError``."""
    if isinstance(exc, SendError):
        return exc
    status = status_of(exc)
    detail = error_detail(exc)
    if status in GONE_STATUSES:
        return SendError(f"Teams refused the write ({detail})", retryable=False, gone=True)
    if is_retryable(exc):
        return SendError(f"Teams is busy or unreachable ({detail})", retryable=True, retry_after=retry_after_of(exc))
    return SendError(f"Teams rejected the message ({detail})", retryable=False)
