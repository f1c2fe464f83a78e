"""Environment -> one typed Settings object.

The variable names are a public contract (README, deployment docs): keep them exactly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import annotated_types
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.i18n import plain

TELEGRAM_API_ROOT = "https://api.telegram.org"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./data/focusbot.sqlite3"

IdSet = Annotated[frozenset[int], NoDecode]


def id_parts(value: str) -> list[str]:
    """The ids of ADMIN_IDS / ORGANIZER_IDS: separated by commas (or semicolons)."""
    return [part for part in (p.strip() for p in value.replace(";", ",").split(",")) if part]


class Settings(BaseSettings):
    """Everything the bot reads from the environment (or a `.env` file)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    bot_token: SecretStr | None = Field(default=None, validation_alias="BOT_TOKEN")
    bot_api_url: str = Field(default=TELEGRAM_API_ROOT, validation_alias="BOT_API_URL")
    database_url: str = Field(default=DEFAULT_DATABASE_URL, validation_alias="DATABASE_URL")
    admin_ids: IdSet = Field(default=frozenset(), validation_alias="ADMIN_IDS")
    organizer_ids: IdSet = Field(default=frozenset(), validation_alias="ORGANIZER_IDS")
    organizer_chat_id: int | None = Field(default=None, validation_alias="ORGANIZER_CHAT_ID")
    content_dir: Path = Field(default=Path("content"), validation_alias="CONTENT_DIR")
    log_level: str = Field(default="INFO", validation_alias="LOG_LEVEL")
    # The broadcasts' pace, for the whole bot: one worker at a time sends them (the sending
    # role, bot/leases.py). Telegram allows about 30/s per bot: the rest is the margin for
    # the replies every worker sends.
    broadcast_rate: float = Field(default=25.0, gt=0, le=30, validation_alias="BROADCAST_RATE")
    # Everything one worker sends, replies and broadcasts together; replies go first.
    send_rate_limit: float = Field(default=29.0, gt=0, validation_alias="SEND_RATE_LIMIT")
    webhook_url: str | None = Field(default=None, validation_alias="WEBHOOK_URL")
    webhook_secret: SecretStr | None = Field(default=None, validation_alias="WEBHOOK_SECRET")
    webhook_listen: str = Field(default="127.0.0.1", validation_alias="WEBHOOK_LISTEN")
    webhook_port: int = Field(default=8443, ge=1, le=65535, validation_alias="WEBHOOK_PORT")
    # The Mini App (the programme page): the public https address Telegram opens, and in
    # polling mode the local port its server listens on (webhook mode serves it on its own).
    web_app_url: str | None = Field(default=None, validation_alias="WEB_APP_URL")
    web_app_port: int | None = Field(default=None, ge=1, le=65535, validation_alias="WEB_APP_PORT")

    @field_validator("admin_ids", "organizer_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(int(part) for part in id_parts(value))
        if isinstance(value, int):
            return frozenset({value})
        return value

    @field_validator("organizer_chat_id", mode="before")
    @classmethod
    def _empty_chat_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("web_app_url", mode="before")
    @classmethod
    def _web_app_https(cls, value: object) -> object:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if not isinstance(value, str) or not value.strip().startswith("https://"):
            raise ValueError("not an https:// address")  # said by settings_problems
        return value.strip()

    @field_validator("web_app_port", mode="before")
    @classmethod
    def _empty_port_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def api_root(self) -> str:
        """The Bot API root without a trailing `/bot` (both spellings are accepted)."""
        root = self.bot_api_url.rstrip("/")
        return root[: -len("/bot")] if root.endswith("/bot") else root

    @property
    def base_url(self) -> str:
        return f"{self.api_root}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.api_root}/file/bot"

    def is_admin(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.admin_ids

    def is_organizer(self, user_id: int | None) -> bool:
        """Organizers decide on speaking requests; admins may too."""
        return user_id is not None and (user_id in self.organizer_ids or self.is_admin(user_id))


# -- what is wrong with the settings, one plain line each (main.py prints them) --------------

# The message of the settings that are not simply numbers (catalog keys, core.yaml).
PROBLEM_KEYS = {
    "admin_ids": "cli.settings.ids",
    "organizer_ids": "cli.settings.ids",
    "organizer_chat_id": "cli.settings.chat_id",
    "web_app_url": "cli.settings.web_app_url",
}
BOUNDS = (
    (annotated_types.Gt, "gt"),
    (annotated_types.Ge, "ge"),
    (annotated_types.Lt, "lt"),
    (annotated_types.Le, "le"),
)
SECRET = "***"


def settings_problems(error: ValidationError) -> list[str]:
    """One line per setting that is wrong, naming the variable, what it must be and what it
    was (never a secret's value): pydantic's own report is for programmers."""
    lines: list[str] = []
    seen: set[str] = set()
    for detail in error.errors():
        name = str(detail["loc"][0]) if detail["loc"] else ""
        if name in seen:
            continue
        seen.add(name)
        lines.append(_problem(name, detail))
    return lines


def _field_named(variable: str) -> str | None:
    for field_name, field in Settings.model_fields.items():
        if field.validation_alias == variable:
            return field_name
    return None


def _problem(variable: str, detail: ErrorDetails) -> str:
    field_name = _field_named(variable)
    value: Any = detail.get("input")
    if field_name is None:
        return plain("cli.settings.other", "en", name=variable, reason=detail["msg"])
    field = Settings.model_fields[field_name]
    if field.annotation is SecretStr or field.annotation == SecretStr | None:
        value = SECRET
    elif field_name in ("admin_ids", "organizer_ids") and isinstance(value, str):
        value = ", ".join(part for part in id_parts(value) if not _is_int(part))
    key = PROBLEM_KEYS.get(field_name)
    if key is not None:
        return plain(key, "en", name=variable, value=value)
    whole = _is_int_field(field.annotation)
    number = "cli.settings.whole_number" if whole else "cli.settings.number"
    bounds = [
        plain(f"cli.settings.bound.{word}", "en", limit=_shown(getattr(rule, word)))
        for rule in field.metadata
        for kind, word in BOUNDS
        if isinstance(rule, kind)
    ]
    if not bounds:  # every number has its range; any other setting: pydantic's words
        return plain("cli.settings.other", "en", name=variable, reason=detail["msg"])
    if len(bounds) > 1:
        bounds = [plain("cli.settings.bounds", "en", low=bounds[0], high=bounds[1])]
    return plain(number, "en", name=variable, value=value, bounds=bounds[0])


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def _is_int_field(annotation: object) -> bool:
    return annotation is int or annotation == int | None


def _shown(limit: object) -> str:
    """30.0 -> "30": limits as a person writes them."""
    if isinstance(limit, float) and limit.is_integer():
        return str(int(limit))
    return str(limit)
