"""A fake Bot Framework OpenID endpoint and key set on 127.0.0.1, with RSA keys made in the test.

``token(...)`` signs a JWT the way the Bot Framework channel does (RS256, ``kid``, ``iss``, ``aud``,
``serviceurl``); each argument can be bent to build the forged variants.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ISSUER = "https://api.botframework.com"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class FakeOpenId:
    def __init__(self, key: rsa.RSAPrivateKey, kid: str = "key-1", endorsements: list[str] | None = None) -> None:
        jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
        jwk.update(kid=kid, use="sig", endorsements=endorsements if endorsements is not None else ["msteams"])
        self.key = key
        self.kid = kid
        self.jwks: dict[str, Any] = {"keys": [jwk]}
        self.requests = 0
        self.hang = False  # answer nothing until the client gives up (a stalled key endpoint)
        self.status = 200
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/v1/.well-known/openidconfiguration", self._metadata)
        app.router.add_get("/keys", self._keys)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    @property
    def metadata_url(self) -> str:
        return f"{self.url}/v1/.well-known/openidconfiguration"

    async def _metadata(self, request: web.Request) -> web.Response:
        self.requests += 1
        if self.hang:
            await asyncio.Event().wait()
        if self.status != 200:
            return web.Response(status=self.status, text="down")
        return web.json_response({"issuer": ISSUER, "jwks_uri": f"{self.url}/keys"})

    async def _keys(self, request: web.Request) -> web.Response:
        return web.json_response(self.jwks)

    def token(
        self,
        *,
        app_id: str,
        service_url: str,
        key: Any = None,
        kid: str | None = None,
        alg: str = "RS256",
        **claims: Any,
    ) -> str:
        now = int(time.time())
        payload = {
            "iss": ISSUER,
            "aud": app_id,
            "serviceurl": service_url,
            "nbf": now - 60,
            "exp": now + 3600,
            "iat": now - 60,
        }
        payload.update(claims)
        payload = {k: v for k, v in payload.items() if v is not None}
        headers = {"kid": kid if kid is not None else self.kid}
        return jwt.encode(payload, key if key is not None else self.key, algorithm=alg, headers=headers)
