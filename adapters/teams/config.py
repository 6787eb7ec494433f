"""Teams settings, read from the environment once so the rest of the adapter never touches os.environ."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

APP_TYPES = ("MultiTenant", "SingleTenant", "UserAssignedMSI")


@dataclass(frozen=True)
class TeamsConfig:
    """The Azure Bot registration. An empty ``app_id`` means local, unauthenticated testing."""

    app_id: str = ""
    app_password: str = ""
    tenant_id: str = ""
    app_type: str = "MultiTenant"
    admin_ids: frozenset[str] = field(default_factory=frozenset)  # AAD object ids
    enabled: bool = True
    # where the Bot Framework publishes its signing keys (tests point it at a fake on 127.0.0.1)
    openid_metadata_url: str = "https://login.botframework.com/v1/.well-known/openidconfiguration"

    def __post_init__(self) -> None:
        canonical = {t.lower(): t for t in APP_TYPES}
        app_type = canonical.get((self.app_type or "MultiTenant").lower())
        if app_type is None:
            raise ValueError(f"MICROSOFT_APP_TYPE must be one of {', '.join(APP_TYPES)}; got {self.app_type!r}")
        object.__setattr__(self, "app_type", app_type)
        object.__setattr__(self, "admin_ids", frozenset(a.lower() for a in self.admin_ids))
        if app_type == "SingleTenant" and self.app_id and not self.tenant_id:
            raise ValueError("MICROSOFT_APP_TYPE=SingleTenant needs MICROSOFT_APP_TENANT_ID")
        if app_type == "UserAssignedMSI" and not (self.app_id and self.tenant_id):
            raise ValueError("MICROSOFT_APP_TYPE=UserAssignedMSI needs MICROSOFT_APP_ID and MICROSOFT_APP_TENANT_ID")

    @property
    def authenticated(self) -> bool:
        """Inbound JWTs are checked only when an app id is set (Bot Framework's own rule)."""
        return bool(self.app_id)

    def is_admin(self, aad_object_id: str | None) -> bool:
        if not aad_object_id:
            return False
        return aad_object_id.lower() in self.admin_ids

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TeamsConfig:
        env = os.environ if env is None else env
        admins = frozenset(
            a.strip() for a in env.get("TANDEM_TEAMS_ADMINS", "").replace(";", ",").split(",") if a.strip()
        )
        flag = env.get("TANDEM_TEAMS_ENABLED", "").strip().lower()
        return cls(
            app_id=env.get("MICROSOFT_APP_ID", "").strip(),
            app_password=env.get("MICROSOFT_APP_PASSWORD", "").strip(),
            tenant_id=env.get("MICROSOFT_APP_TENANT_ID", "").strip(),
            app_type=env.get("MICROSOFT_APP_TYPE", "").strip() or "MultiTenant",
            admin_ids=admins,
            enabled=flag not in ("0", "false", "no", "off"),
        )

    @classmethod
    def from_settings(cls, settings: Any) -> TeamsConfig:
        """From Tandem's pydantic settings (MICROSOFT_APP_ID, ..., TANDEM_TEAMS_ADMINS)."""
        admins = (getattr(settings, "teams_admins", "") or "").replace(";", ",").split(",")
        return cls(
            app_id=(settings.microsoft_app_id or "").strip(),
            app_password=(settings.microsoft_app_password or "").strip(),
            tenant_id=(settings.microsoft_app_tenant_id or "").strip(),
            app_type=settings.microsoft_app_type or "MultiTenant",
            admin_ids=frozenset(a.strip() for a in admins if a.strip()),
            enabled=getattr(settings, "teams_enabled", None) is not False,
        )

    def botbuilder_settings(self) -> object:
        """The attribute bag ``ConfigurationBotFrameworkAuthentication`` reads (APP_ID, APP_PASSWORD...)."""

        class _Settings:
            APP_ID = self.app_id
            APP_PASSWORD = self.app_password
            APP_TYPE = self.app_type
            APP_TENANTID = self.tenant_id

        return _Settings()
