"""Logging for production: LOG_LEVEL, one format, and no secret ever reaching a log line.

`RedactSecrets` sits on every root handler, so whatever logs (our code, python-telegram-bot,
httpx, aiohttp, a traceback that prints a request URL) is scrubbed of the bot token and the
webhook secret before it is written anywhere.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from bot.settings import Settings

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REDACTED = "[REDACTED]"
MIN_FRAGMENT = 6
# Libraries that log every request URL (Bot API URLs contain the token) or every byte.
# Libraries that talk at INFO/DEBUG on every call. bm25s sets its own logger to DEBUG when it
# is imported ("Building index from tokens" on every start, in the terminal chat too).
NOISY_LOGGERS = ("httpx", "httpcore", "aiosqlite", "asyncio", "alembic.runtime.plugins", "bm25s")


def settings_secrets(settings: Settings) -> list[str]:
    """The values that must never be logged: the token (and its secret half), the secret.

    A fragment shorter than MIN_FRAGMENT is left out: replacing every "x" in every line would
    make the logs unreadable, and no real token or accepted webhook secret is that short.
    """
    secrets = []
    if settings.bot_token is not None:
        token = settings.bot_token.get_secret_value()
        secrets += [token, token.partition(":")[2]]
    if settings.webhook_secret is not None:
        secrets.append(settings.webhook_secret.get_secret_value())
    return [secret for secret in secrets if len(secret.strip()) >= MIN_FRAGMENT]


class RedactSecrets(logging.Filter):
    """Replaces every secret in a record's message, traceback and stack with [REDACTED]."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Longest first, so the whole token goes before its secret half is looked for.
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # malformed %-args: keep what we can, scrubbed
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class QuietKnownFailures(logging.Filter):
    """python-telegram-bot logs a failed start-up (wrong token, no network) and a second
    poller's 409 Conflict with full tracebacks; the bot says each in one line of its own
    (main.py, handlers/errors.py), so those records are dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith("telegram") or record.exc_info is None:
            return True
        error = record.exc_info[1]
        if type(error).__name__ == "Conflict":
            return False
        return "Bootstrap" not in str(record.msg % record.args if record.args else record.msg)


def level_number(name: str) -> int | None:
    """The numeric level for a LOG_LEVEL name such as "info" or "DEBUG" (None if unknown)."""
    return logging.getLevelNamesMapping().get(name.strip().upper())


def configure_logging(level: str, secrets: Iterable[str] = ()) -> None:
    """Root logging at `level`, with every handler redacting `secrets`."""
    number = level_number(level)
    logging.basicConfig(level=number or logging.INFO, format=LOG_FORMAT, force=True)
    logging.captureWarnings(True)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(max(number or logging.INFO, logging.WARNING))
    redaction = RedactSecrets(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redaction)
        handler.addFilter(QuietKnownFailures())
    if number is None:
        logging.getLogger(__name__).warning("Unknown LOG_LEVEL %r: using INFO", level)
