"""Signs the data Tandem puts on card actions, so a hand-edited Action.Execute payload is refused.

Teams sends card data back exactly as the card held it (plus the inputs), so a signature over the verb and
our own payload catches unknown verbs and tampered values before anything reaches the core.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

DATA_KEY = "_tandem"  # our payload inside Action.Execute data; card inputs sit beside it


class CardSigner:
    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(f"tandem-teams-card:{secret}".encode()).digest()

    def _mac(self, verb: str, payload: dict[str, Any]) -> str:
        body = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hmac.new(self._key, f"{verb}\n{body}".encode(), hashlib.sha256).hexdigest()[:32]

    def seal(self, verb: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The ``data`` object for an Action.Execute with this verb."""
        return {DATA_KEY: {**payload, "sig": self._mac(verb, payload)}}

    def open(self, verb: str, data: Any) -> dict[str, Any] | None:
        """Our payload if ``data`` was sealed by us for ``verb``; ``None`` if it is foreign or altered."""
        if not isinstance(data, dict) or not isinstance(data.get(DATA_KEY), dict):
            return None
        payload = dict(data[DATA_KEY])
        sig = payload.pop("sig", None)
        if not isinstance(sig, str) or not hmac.compare_digest(sig, self._mac(verb, payload)):
            return None
        return payload
