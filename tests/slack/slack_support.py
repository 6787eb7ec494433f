"""Helpers for the Slack tests: find the shared conformance payloads, sign requests like Slack does."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

SECRET = "test-signing-secret"
TEAM_ID = "T111"


def conformance_dir() -> Path | None:
    """``<repo>/../shared/conformance`` (the repo is checked out with ``shared/`` beside it)."""
    repo = Path(__file__).resolve().parents[2]
    for candidate in (repo.parent / "shared" / "conformance", Path("/work/shared/conformance")):
        if (candidate / "slack").is_dir():
            return candidate
    return None


def load(relative: str) -> Any:
    base = conformance_dir()
    assert base is not None, "conformance fixtures missing"
    path = base / "slack" / relative
    return json.loads(path.read_text()) if path.suffix == ".json" else path.read_text()


def sign(body: bytes, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def json_request(payload: dict[str, Any], **sign_args: Any) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    return body, {"Content-Type": "application/json", **sign(body, **sign_args)}


def form_request(fields: dict[str, Any], **sign_args: Any) -> tuple[bytes, dict[str, str]]:
    body = urlencode(fields).encode()
    return body, {"Content-Type": "application/x-www-form-urlencoded", **sign(body, **sign_args)}


def interactive_request(payload: dict[str, Any], **sign_args: Any) -> tuple[bytes, dict[str, str]]:
    return form_request({"payload": json.dumps(payload)}, **sign_args)
