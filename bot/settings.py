"""Environment -> one typed Settings object.

The variable names are a public contract (README, deployment docs): keep them exactly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

TELEGRAM_API_ROOT = "https://api.telegram.org"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./data/focusbot.sqlite3"

IdSet = Annotated[frozenset[int], NoDecode]


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
    webhook_port: int = Field(default=8443, validation_alias="WEBHOOK_PORT")
    # The Mini App (the programme page): the public https address Telegram opens, and in
    # polling mode the local port its server listens on (webhook mode serves it on its own).
    web_app_url: str | None = Field(default=None, validation_alias="WEB_APP_URL")
    web_app_port: int | None = Field(default=None, validation_alias="WEB_APP_PORT")

    @field_validator("admin_ids", "organizer_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.replace(";", ",").split(",")]
            return frozenset(int(part) for part in parts if part)
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
            raise ValueError("WEB_APP_URL must be a public https:// address (Telegram's rule)")
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
