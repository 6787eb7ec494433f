"""Slack settings, read once from the environment so the rest of the adapter never touches ``os.environ``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from adapters.slack.pacing import RateLimits


@dataclass(frozen=True)
class SlackConfig:
    """Everything the adapter needs to talk to Slack.

    A single-workspace install needs ``bot_token`` + ``signing_secret``; a multi-workspace install needs
    ``client_id`` + ``client_secret`` + ``signing_secret`` (tokens then come from the installation table);
    Socket Mode adds ``app_token`` and needs no public URL.
    """

    bot_token: str | None = None
    signing_secret: str | None = None
    app_token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    api_url: str | None = None  # Web API base URL; only tests point it elsewhere
    admin_ids: frozenset[str] = frozenset()
    scopes: tuple[str, ...] = ()
    http_timeout: float = 10.0
    retry_backoff: float = 0.5  # seconds before the first retry of a 5xx/connection error, doubling after
    user_cache_seconds: float = 3600.0
    download_limit_bytes: int = 5 * 1024 * 1024  # files sent to the bot (participant CSVs) bigger than this are refused
    download_timeout: float = 30.0  # seconds for one file download, redirects included
    background_concurrency: int = 2  # events worked on at once after their ack (see background.py)
    backlog_limit: int = 1000  # acked requests waiting or being worked on; more are turned away (backpressure.py)
    limits: RateLimits = field(default_factory=RateLimits)
    secret_keys: tuple[str, ...] = ()  # TANDEM_SECRET_KEYS: OAuth bot tokens encrypted at rest when set

    @property
    def enabled(self) -> bool:
        """True when there is enough configuration to run the adapter at all."""
        has_creds = bool(self.bot_token) or self.oauth_enabled
        return has_creds and (bool(self.signing_secret) or self.socket_mode)

    @property
    def oauth_enabled(self) -> bool:
        return bool(self.client_id and self.client_secret)

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token)

    @property
    def base_url(self) -> str:
        """The Web API base URL with the trailing slash slack_sdk expects."""
        url = self.api_url or "https://slack.com/api/"
        return url if url.endswith("/") else url + "/"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SlackConfig:
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = (env.get(name) or "").strip()
            return value or None

        admins = frozenset(p.strip() for p in (env.get("TANDEM_SLACK_ADMINS") or "").split(",") if p.strip())
        return cls(
            bot_token=get("SLACK_BOT_TOKEN"),
            signing_secret=get("SLACK_SIGNING_SECRET"),
            app_token=get("SLACK_APP_TOKEN"),
            client_id=get("SLACK_CLIENT_ID"),
            client_secret=get("SLACK_CLIENT_SECRET"),
            api_url=get("TANDEM_SLACK_API_URL"),
            admin_ids=admins,
            secret_keys=_keys(env.get("TANDEM_SECRET_KEYS")),
        )

    @classmethod
    def from_settings(cls, settings: object) -> SlackConfig:
        """Build from ``tandem.settings.Settings`` (duck-typed so this module doesn't import the server)."""
        raw_admins = getattr(settings, "slack_admins", "") or ""
        return cls(
            bot_token=getattr(settings, "slack_bot_token", None) or None,
            signing_secret=getattr(settings, "slack_signing_secret", None) or None,
            app_token=getattr(settings, "slack_app_token", None) or None,
            client_id=getattr(settings, "slack_client_id", None) or None,
            client_secret=getattr(settings, "slack_client_secret", None) or None,
            api_url=getattr(settings, "slack_api_url", None) or None,
            admin_ids=frozenset(p.strip() for p in raw_admins.split(",") if p.strip()),
            secret_keys=_keys(getattr(settings, "secret_keys", None)),
            backlog_limit=int(getattr(settings, "slack_backlog", None) or cls.backlog_limit),
        )


def _keys(raw: str | None) -> tuple[str, ...]:
    return tuple(k.strip() for k in (raw or "").split(",") if k.strip())


# Every Slack Web API method the adapter calls, with the bot scopes it needs for what Tandem does with it
# (program channels may be public or private, so channel reads need both the channels: and groups: scope).
# tests/slack/test_slack_scopes.py finds every method in the adapter's source and checks this map and both
# manifests against each other; `tandem doctor` compares the scopes a token was granted with BOT_SCOPES.
METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "auth.test": (),
    "chat.getPermalink": (),
    "chat.postEphemeral": ("chat:write",),
    "chat.postMessage": ("chat:write",),
    "chat.update": ("chat:write",),
    "conversations.info": ("channels:read", "groups:read"),
    "conversations.members": ("channels:read", "groups:read"),
    "conversations.open": ("im:write", "mpim:write"),
    "conversations.replies": ("channels:history", "groups:history"),
    "files.completeUploadExternal": ("files:write",),
    "files.getUploadURLExternal": ("files:write",),
    "files.info": ("files:read",),
    "files.upload": ("files:write",),
    "users.info": ("users:read",),
    "users.lookupByEmail": ("users:read.email",),
    "views.open": (),
    "views.publish": (),
}

# The events Tandem subscribes to (both manifests' bot_events), with the scope each needs.
EVENT_SCOPES: dict[str, tuple[str, ...]] = {
    "app_home_opened": (),
    "app_mention": ("app_mentions:read",),
    "app_uninstalled": (),
    "member_joined_channel": ("channels:read", "groups:read"),
    "member_left_channel": ("channels:read", "groups:read"),
    "message.im": ("im:history",),
    "tokens_revoked": (),
}

BOT_SCOPES: tuple[str, ...] = tuple(
    sorted({"commands", *(s for need in (*METHOD_SCOPES.values(), *EVENT_SCOPES.values()) for s in need)})
)
