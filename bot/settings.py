"""Settings, read from the environment and `.env` (see `.env.example` for each one)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import time
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

if TYPE_CHECKING:
    from models.crypto import Keyring

TOKEN_SHAPE = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{20,}$")
SECRET_SHAPE = re.compile(r"^[A-Za-z0-9_-]{32,256}$")
SUPPORTED_DATABASES = ("sqlite+aiosqlite://", "postgresql+asyncpg://")


class SettingsError(Exception):
    """A setting is missing or wrong; the message is one line naming it."""


# Read by `load_settings`, below the environment's own variables.
ENV_FILE = ".env"


class Settings(BaseModel):
    # Checked as pydantic-settings would from the environment's strings ("8" is 8), but read
    # by `from_environment` below: pydantic-settings (with argparse) cost 1.3 MB in every bot
    # process (issue 21's memory aim) for what is a dozen lines here.
    model_config = ConfigDict(extra="ignore")

    bot_token: SecretStr | None = None
    bot_api_url: str = "https://api.telegram.org"
    bot_framework: Literal["aiogram", "ptb"] = "aiogram"
    database_url: str = "sqlite+aiosqlite:///returnee.db"
    timezone: str = "Asia/Shanghai"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "0.0.0.0:8443"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # The key that encrypts phones and ID numbers at rest (models/crypto.py): 32 random bytes
    # in base64, from `returnee admin new-key`. When it is replaced, the old one goes to
    # DATA_KEY_OLD (comma-separated) until `returnee admin rotate-key` has re-encrypted all.
    data_key: SecretStr | None = None
    data_key_old: SecretStr | None = None
    # The local rules: a preset (jiayuguan, qilin, lanzhou, 14+7, 7+7, 14+2) or a YAML file.
    policy: str = "jiayuguan"
    # Days personal data is kept after a person's plan ends.
    retention_days: int = Field(default=30, ge=1, le=3650)
    # Daily check-in times (local), and how long an unanswered check-in waits for a reminder.
    checkin_times: str = "08:00,20:00"
    reminder_after_minutes: int = Field(default=120, ge=5, le=720)
    # The first check-in slot counted opens at least this long after arrival (or the report).
    checkin_grace_minutes: int = Field(default=60, ge=0, le=1440)
    # An alert nobody acknowledged is sent again after this long, and escalated to the level
    # above after this long (both from when it reached them); the daily report's local time.
    alert_resend_after_minutes: int = Field(default=120, ge=5, le=1440)
    alert_escalate_after_minutes: int = Field(default=360, ge=10, le=10080)
    daily_report_at: str = "20:00"
    # The staff roles whose register (/export) shows ID numbers in full, comma-separated
    # (grid, community, street, district; empty: none); every other role sees them masked.
    export_full_id_roles: str = "district"
    # How many updates are handled at once. aiogram starts a task per update with no cap,
    # which with SQLite ends in "database is locked"; this bounds both runners.
    concurrency: int = Field(default=8, ge=1, le=256)
    # Messages a second the bot sends to any one chat (replies and its own messages alike).
    # Telegram allows about 1 and answers more with 429; more only for a Bot API that allows
    # it: the emulator in the end-to-end tests, whose conversations would otherwise wait a
    # second a message.
    chat_rate: float = Field(default=1.0, gt=0, le=100)
    # Whose time the bot keeps: the system's, or the local emulator's (the demo and the tests,
    # which move it forward to see a week of check-ins in minutes).
    clock: Literal["system", "emulator"] = "system"
    # `returnee api`: where it listens, the address the dashboard is reached at (the sign-in
    # links /web sends; none: /web says the dashboard is not set up), and how many calls a
    # minute each API token may make.
    api_listen: str = "127.0.0.1:8090"
    web_url: str | None = None
    api_rate_per_minute: int = Field(default=120, ge=1, le=100_000)

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not TOKEN_SHAPE.match(value.get_secret_value()):
            raise ValueError("does not look like a bot token (123456:ABC…, from @BotFather)")
        return value

    @field_validator("bot_api_url", "webhook_url", "web_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http:// or https:// address")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        if not value.startswith(SUPPORTED_DATABASES):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Shanghai)") from None
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not SECRET_SHAPE.match(value.get_secret_value()):
            raise ValueError(
                "must be 32-256 characters of A-Z, a-z, 0-9, _ and - "
                "(`returnee admin secret` prints one)"
            )
        return value

    @field_validator("data_key", "data_key_old")
    @classmethod
    def _data_key(cls, value: SecretStr | None) -> SecretStr | None:
        from models.crypto import DataKeyError, parse_key

        if value is not None:
            try:
                for key in value.get_secret_value().split(","):
                    parse_key(key)
            except DataKeyError as problem:
                raise ValueError(str(problem)) from None
        return value

    @field_validator("webhook_listen", "api_listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError("must be HOST:PORT, e.g. 0.0.0.0:8443")
        return value

    @field_validator("checkin_times")
    @classmethod
    def _times(cls, value: str) -> str:
        try:
            parsed = sorted(
                {time.fromisoformat(part.strip()) for part in value.split(",") if part.strip()}
            )
        except ValueError:
            raise ValueError("must be times like 08:00,20:00") from None
        if not parsed:
            raise ValueError("must name at least one time, like 08:00")
        return ",".join(t.strftime("%H:%M") for t in parsed)

    @field_validator("daily_report_at")
    @classmethod
    def _report_time(cls, value: str) -> str:
        hours, sep, minutes = value.strip().partition(":")
        try:
            if not sep or len(minutes) != 2:
                raise ValueError
            return time(int(hours), int(minutes)).strftime("%H:%M")
        except ValueError:
            raise ValueError("must be a time like 20:00") from None

    @field_validator("export_full_id_roles")
    @classmethod
    def _roles_known(cls, value: str) -> str:
        roles = {part.strip() for part in value.split(",") if part.strip()}
        unknown = roles - {"grid", "community", "street", "district"}
        if unknown:
            raise ValueError(
                f"unknown role {sorted(unknown)[0]!r} (roles: grid, community, street, district)"
            )
        return ",".join(sorted(roles))

    @property
    def full_id_roles(self) -> frozenset[str]:
        return frozenset(part for part in self.export_full_id_roles.split(",") if part)

    @property
    def daily_report_time(self) -> time:
        return time.fromisoformat(self.daily_report_at)

    @property
    def checkin_slots(self) -> tuple[time, ...]:
        return tuple(time.fromisoformat(part) for part in self.checkin_times.split(","))

    @field_validator("policy")
    @classmethod
    def _policy_loads(cls, value: str) -> str:
        from rules.policy import PolicyError, load_policy

        try:
            load_policy(value)
        except PolicyError as exc:
            raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.webhook_url and self.webhook_secret is None:
            raise ValueError("WEBHOOK_SECRET: required when WEBHOOK_URL is set")
        if self.alert_escalate_after_minutes <= self.alert_resend_after_minutes:
            raise ValueError(
                "ALERT_ESCALATE_AFTER_MINUTES: must be longer than ALERT_RESEND_AFTER_MINUTES"
            )
        if self.clock == "emulator" and self.bot_api_url.rstrip("/") == "https://api.telegram.org":
            raise ValueError("CLOCK: emulator needs BOT_API_URL to be the local emulator")
        if self.bot_token is not None and self.data_key is None:
            raise ValueError(
                "DATA_KEY: required with BOT_TOKEN, to encrypt phones and ID numbers "
                "(`returnee admin new-key` prints one; keep it apart from the database's backups)"
            )
        return self

    def keyring(self) -> Keyring:
        """The keys phones and ID numbers are encrypted with (a SettingsError if unset)."""
        from models.crypto import Keyring

        if self.data_key is None:
            raise SettingsError("DATA_KEY: missing (`returnee admin new-key` prints one)")
        older = self.data_key_old.get_secret_value() if self.data_key_old else ""
        return Keyring.from_settings(self.data_key.get_secret_value(), older)

    def token(self) -> str:
        """The bot token, for commands that talk to Telegram (a SettingsError if unset)."""
        if self.bot_token is None:
            raise SettingsError(
                "BOT_TOKEN: missing (get one from @BotFather, or try `returnee demo`, "
                "which needs none)"
            )
        return self.bot_token.get_secret_value()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def listen_host_port(self) -> tuple[str, int]:
        host, _, port = self.webhook_listen.rpartition(":")
        return host, int(port)


def from_environment(env_file: str | None = ENV_FILE) -> dict[str, str]:
    """The settings named in the environment or in `env_file` (the environment wins), by
    their lower-case names; unknown names and empty values are left out."""
    names = Settings.model_fields.keys()
    sources: list[Mapping[str, str | None]] = []
    if env_file is not None and os.path.isfile(env_file):
        from dotenv import dotenv_values  # only when there is a file to read

        sources.append(dotenv_values(env_file, encoding="utf-8"))
    sources.append(os.environ)
    found: dict[str, str] = {}
    for source in sources:
        for name, value in source.items():
            if value and name.lower() in names:
                found[name.lower()] = value
    return found


def load_settings(*, _env_file: str | None = ENV_FILE, **overrides: Any) -> Settings:
    """Settings from the environment, `.env` and overrides, or one clear SettingsError."""
    try:
        return Settings(**{**from_environment(_env_file), **overrides})
    except ValidationError as exc:
        raise SettingsError(describe(exc)) from None


def describe(exc: ValidationError) -> str:
    first = exc.errors()[0]
    name = str(first["loc"][0]).upper() if first["loc"] else ""
    message = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] == "missing":
        message = "missing"
    if not name:
        # Cross-field errors name their setting in the message itself.
        return message
    more = len(exc.errors()) - 1
    tail = f" (and {more} more)" if more else ""
    return f"{name}: {message}{tail}"
