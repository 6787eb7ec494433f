"""Checks the Bot Framework's JWT on every inbound activity, without blocking the event loop.

botbuilder's own check fetches Microsoft's signing keys with a synchronous HTTP call and no timeout, and
turns every bad token into a generic exception. This mirrors what it verifies for tokens from the Bot
Framework channel (``ChannelValidation`` / ``JwtTokenExtractor``) with PyJWT and an async, cached,
time-limited key fetch:

* the ``Authorization`` header is ``Bearer <jwt>``;
* the algorithm is RS256/RS384/RS512 (never ``none`` or HMAC) and the key id is one of the published keys;
* the key's endorsements, when it has any, include the activity's channel id;
* the signature, ``exp`` and ``nbf`` (5 minutes of clock skew, as botbuilder allows);
* ``iss`` is the Bot Framework, ``aud`` is our app id;
* the ``serviceurl`` claim equals the activity's ``serviceUrl`` (so a token cannot be replayed elsewhere).

A bad token raises :class:`Unauthorized` (401); keys that cannot be fetched raise :class:`KeysUnavailable`
(503). Neither carries a traceback into the log.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import jwt
from botframework.connector.auth import AuthenticationConstants, ClaimsIdentity
from jwt.algorithms import RSAAlgorithm

ALGORITHMS = ("RS256", "RS384", "RS512")
CLOCK_SKEW_SECONDS = 5 * 60
KEYS_MAX_AGE_SECONDS = 24 * 3600  # botbuilder refreshes daily
UNKNOWN_KID_REFRESH_SECONDS = 5 * 60  # an unknown kid refreshes at most this often (no refresh flood)
MAX_TOKEN_CHARS = 8_192  # aiohttp refuses longer header lines itself


class Unauthorized(PermissionError):
    """The request's token is missing or not one the Bot Framework issued for this bot."""


class KeysUnavailable(Exception):
    """The signing keys could not be fetched (timeout, network, bad answer): a real outage, 503."""


@dataclass
class SigningKeys:
    """Microsoft's published signing keys: fetched via the OpenID metadata, cached, refreshed rarely."""

    metadata_url: str
    timeout_seconds: float = 10.0
    clock: Callable[[], float] = time.monotonic
    _keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    _fetched_at: float | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def key(self, kid: str) -> dict[str, Any] | None:
        """The JWK with this id, or ``None`` if Microsoft does not publish it."""
        if self._stale(KEYS_MAX_AGE_SECONDS):
            await self._refresh(keep_old=True)
        if kid not in self._keys and self._stale(UNKNOWN_KID_REFRESH_SECONDS):
            await self._refresh(keep_old=True)
        return self._keys.get(kid)

    def _stale(self, age: float) -> bool:
        return self._fetched_at is None or self.clock() - self._fetched_at >= age

    async def _refresh(self, *, keep_old: bool) -> None:
        async with self._lock:
            fetched_before = self._fetched_at
            try:
                self._keys = await self._fetch()
                self._fetched_at = self.clock()
            except KeysUnavailable:
                if not (keep_old and self._keys):
                    raise
                self._fetched_at = fetched_before if fetched_before is not None else self.clock()

    async def _fetch(self) -> dict[str, dict[str, Any]]:
        timeout = aiohttp.ClientTimeout(total=self.timeout_seconds)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                metadata = await _get_json(session, self.metadata_url)
                jwks_uri = metadata.get("jwks_uri") if isinstance(metadata, dict) else None
                if not isinstance(jwks_uri, str):
                    raise KeysUnavailable("the OpenID metadata has no jwks_uri")
                jwks = await _get_json(session, jwks_uri)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise KeysUnavailable(f"{type(exc).__name__}: {exc}") from None
        keys = jwks.get("keys") if isinstance(jwks, dict) else None
        if not isinstance(keys, list):
            raise KeysUnavailable("the key set has no keys")
        return {k["kid"]: k for k in keys if isinstance(k, dict) and isinstance(k.get("kid"), str)}


async def _get_json(session: aiohttp.ClientSession, url: str) -> Any:
    async with session.get(url) as response:
        if response.status != 200:
            raise KeysUnavailable(f"{url} answered {response.status}")
        return json.loads(await response.text())


@dataclass
class ChannelTokenValidator:
    """Validates ``Authorization`` headers of activities the Bot Framework channel sends to this bot."""

    app_id: str
    keys: SigningKeys
    issuer: str = AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER

    async def identity(self, auth_header: str, channel_id: str | None, service_url: str | None) -> ClaimsIdentity:
        token = _bearer(auth_header)
        header = _unverified_header(token)
        jwk = await self.keys.key(header["kid"])
        if jwk is None:
            raise Unauthorized("the token's key id is not published")
        endorsements = jwk.get("endorsements")
        if isinstance(endorsements, list) and endorsements and channel_id not in endorsements:
            raise Unauthorized("the signing key is not endorsed for this channel")
        claims = self._verified_claims(token, header["alg"], jwk)
        if claims.get(AuthenticationConstants.SERVICE_URL_CLAIM) != service_url:
            raise Unauthorized("the token's serviceurl claim does not match the activity")
        return ClaimsIdentity(claims, True)

    def _verified_claims(self, token: str, alg: str, jwk: dict[str, Any]) -> dict[str, Any]:
        try:
            public_key = RSAAlgorithm.from_jwk(json.dumps(jwk))
            claims: dict[str, Any] = jwt.decode(
                token,
                public_key,  # type: ignore[arg-type]
                algorithms=[alg],
                audience=self.app_id,
                issuer=self.issuer,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"{type(exc).__name__}: {exc}") from None
        return claims


def _bearer(auth_header: str) -> str:
    scheme, _, token = (auth_header or "").partition(" ")
    if scheme != "Bearer" or not token.strip():
        raise Unauthorized("no Bearer token")
    if len(token) > MAX_TOKEN_CHARS:
        raise Unauthorized("the token is too long")
    return token.strip()


def _unverified_header(token: str) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"not a JWT: {exc}") from None
    if header.get("alg") not in ALGORITHMS:
        raise Unauthorized(f"signing algorithm {header.get('alg')!r} is not allowed")
    if not isinstance(header.get("kid"), str):
        raise Unauthorized("the token has no key id")
    return header
