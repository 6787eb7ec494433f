"""Configuration from the environment and an optional .env file (pydantic-settings)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.kernel.runtime import PrivacyPolicy
from bot.kernel.zones import typed_zone
from storage.sealing import Sealer, SealError
from storage.urls import DatabaseUrlError, normalize_database_url


def _months(months: int) -> timedelta:
    return timedelta(days=round(months * 365.25 / 12))


class SettingsError(ValueError):
    """A bad setting; the message is one line naming the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field(default="sqlite:///tandem.db", alias="TANDEM_DATABASE_URL")
    host: str = Field(default="127.0.0.1", alias="TANDEM_HOST")
    port: int = Field(default=3978, alias="TANDEM_PORT", ge=1, le=65535)
    default_timezone: str = Field(default="UTC", alias="TANDEM_DEFAULT_TIMEZONE")
    log_level: str = Field(default="INFO", alias="TANDEM_LOG_LEVEL")
    log_format: Literal["text", "json"] = Field(default="text", alias="TANDEM_LOG_FORMAT")
    scheduler: bool = Field(default=True, alias="TANDEM_SCHEDULER")
    step_grace_hours: float | None = Field(default=None, alias="TANDEM_STEP_GRACE_HOURS", gt=0, le=24 * 30)
    # privacy (docs/privacy.md): 0 keeps data until someone erases it
    retention_months: int = Field(default=18, alias="TANDEM_RETENTION_MONTHS", ge=0, le=1200)
    free_text_retention_months: int | None = Field(
        default=None, alias="TANDEM_FREE_TEXT_RETENTION_MONTHS", ge=1, le=1200
    )
    forget_on_uninstall: bool = Field(default=False, alias="TANDEM_FORGET_ON_UNINSTALL")
    leader_retry_seconds: float = Field(default=15.0, alias="TANDEM_LEADER_RETRY_SECONDS", gt=0, le=300)

    slack_bot_token: str | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: str | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: str | None = Field(default=None, alias="SLACK_APP_TOKEN")
    slack_client_id: str | None = Field(default=None, alias="SLACK_CLIENT_ID")
    slack_client_secret: str | None = Field(default=None, alias="SLACK_CLIENT_SECRET")
    slack_api_url: str | None = Field(default=None, alias="TANDEM_SLACK_API_URL")
    slack_admins: str = Field(default="", alias="TANDEM_SLACK_ADMINS")
    # acked Slack requests one process works on or keeps waiting; more are turned away (docs/slack.md)
    slack_backlog: int = Field(default=1000, alias="TANDEM_SLACK_BACKLOG", ge=1, le=1_000_000)
    secret_keys: str = Field(default="", alias="TANDEM_SECRET_KEYS")  # Fernet keys, newest first (docs/security.md)

    microsoft_app_id: str | None = Field(default=None, alias="MICROSOFT_APP_ID")
    microsoft_app_password: str | None = Field(default=None, alias="MICROSOFT_APP_PASSWORD")
    microsoft_app_tenant_id: str | None = Field(default=None, alias="MICROSOFT_APP_TENANT_ID")
    microsoft_app_type: str = Field(default="MultiTenant", alias="MICROSOFT_APP_TYPE")
    teams_admins: str = Field(default="", alias="TANDEM_TEAMS_ADMINS")
    # Only for tests (like TANDEM_SLACK_API_URL): where `tandem doctor` fetches a Teams token.
    teams_login_url: str = Field(default="https://login.microsoftonline.com", alias="TANDEM_TEAMS_LOGIN_URL")
    # Teams is mounted when MICROSOFT_APP_ID is set; TANDEM_TEAMS_ENABLED=true also mounts it without an
    # app id (unauthenticated, for local testing), and false turns it off.
    teams_enabled: bool | None = Field(default=None, alias="TANDEM_TEAMS_ENABLED")

    @field_validator("database_url")
    @classmethod
    def _url(cls, value: str) -> str:
        try:
            normalize_database_url(value)
        except DatabaseUrlError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("default_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return typed_zone(value)  # BadTime is a ValueError: an abbreviation gets the names it might mean

    @field_validator("secret_keys")
    @classmethod
    def _secret_keys(cls, value: str) -> str:
        try:
            Sealer(value.split(","))
        except SealError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("microsoft_app_type")
    @classmethod
    def _app_type(cls, value: str) -> str:
        allowed = {"multitenant": "MultiTenant", "singletenant": "SingleTenant", "userassignedmsi": "UserAssignedMSI"}
        key = value.replace("-", "").replace("_", "").lower()
        if key not in allowed:
            raise ValueError(f"'{value}' is not one of MultiTenant, SingleTenant, UserAssignedMSI")
        return allowed[key]

    def privacy_policy(self) -> PrivacyPolicy:
        """The retention limits as the core reads them (months of about 30.4 days)."""
        return PrivacyPolicy(
            retention=_months(self.retention_months) if self.retention_months else None,
            free_text_retention=_months(self.free_text_retention_months) if self.free_text_retention_months else None,
            forget_on_uninstall=self.forget_on_uninstall,
        )

    @staticmethod
    def id_list(raw: str) -> frozenset[str]:
        return frozenset(part.strip() for part in raw.split(",") if part.strip())


def load_settings(**overrides: Any) -> Settings:
    """Read the settings, turning pydantic's report into one line that names the variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]) if err.get("loc") else "setting"
        field = Settings.model_fields.get(name)
        variable = field.alias if field and field.alias else name
        message = err["msg"].removeprefix("Value error, ")
        raise SettingsError(f"{variable}: {message}") from None
