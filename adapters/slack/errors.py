"""Slack Web API failures → the core's ``SendError`` (retry later, give up, or stop writing there)."""

from __future__ import annotations

import asyncio

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.kernel.port import SendError

# The conversation or person is no longer reachable: the core stops writing there.
GONE = frozenset(
    {
        "channel_not_found",
        "account_inactive",
        "user_not_found",
        "users_not_found",
        "not_in_channel",
        "is_archived",
        "channel_is_archived",
        "user_disabled",
        "cannot_dm_bot",
        "user_not_visible",
        "message_not_found",
        "cant_update_message",
    }
)
# Retrying cannot help: the token, the scopes or the message itself is wrong.
FATAL = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "account_inactive_token",
        "missing_scope",
        "not_allowed_token_type",
        "no_permission",
        "restricted_action",
        "ekm_access_denied",
        "team_access_not_granted",
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "no_text",
        "too_many_attachments",
        "invalid_arguments",
        "invalid_arg_name",
        "invalid_array_arg",
        "invalid_charset",
        "invalid_form_data",
        "invalid_post_type",
        "missing_post_type",
        "method_deprecated",
        "deprecated_endpoint",
        "too_many_users",
        "not_enough_users",
        "invalid_users",
    }
)


def retry_after_of(exc: SlackApiError) -> float | None:
    headers = getattr(exc.response, "headers", None) or {}
    for key, value in headers.items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list | tuple) else value
            try:
                return max(0.0, float(raw))
            except (TypeError, ValueError):
                return 1.0
    return None


def to_send_error(method: str, exc: BaseException) -> SendError:
    """Classify one failed call."""
    if isinstance(exc, SlackApiError):
        status = getattr(exc.response, "status_code", 200)
        code = ""
        data = getattr(exc.response, "data", None)
        if isinstance(data, dict):
            code = str(data.get("error") or "")
        if status == 429 or code == "ratelimited":
            return SendError(f"{method}: rate limited", retryable=True, retry_after=retry_after_of(exc) or 1.0)
        if code in GONE:
            return SendError(f"{method}: {code}", gone=True)
        if code in FATAL:
            return SendError(f"{method}: {code}", retryable=False)
        if status >= 500 or status == 408:
            return SendError(f"{method}: HTTP {status}", retryable=True)
        if 400 <= status < 500:  # a bad request, forbidden or not found: asking again cannot help
            return SendError(f"{method}: {code or f'HTTP {status}'}", retryable=False)
        return SendError(f"{method}: {code or f'HTTP {status}'}", retryable=True)
    if isinstance(exc, aiohttp.ClientError | asyncio.TimeoutError | SlackClientError | OSError):
        return SendError(f"{method}: {type(exc).__name__}: {exc}".rstrip(": "), retryable=True)
    return SendError(f"{method}: {type(exc).__name__}: {exc}", retryable=True)
