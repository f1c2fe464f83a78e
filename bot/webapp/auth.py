"""Telegram's `initData` check, as documented for Mini Apps ("Validating data received via
the Mini App"): https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app

    secret_key = HMAC_SHA256(key="WebAppData", message=bot_token)
    hash       = hex(HMAC_SHA256(key=secret_key, message=data_check_string))

where data_check_string is every received field but `hash`, as `key=value`, sorted by key and
joined by line feeds. The person's id is taken from the checked data only; data older than
`MAX_AGE` is refused, so a leaked initData stops working after a day.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qsl

MAX_AGE: Final = dt.timedelta(hours=24)
# A phone whose clock runs a little ahead must not be refused.
CLOCK_SKEW: Final = dt.timedelta(minutes=5)
MAX_INIT_DATA_LENGTH: Final = 8192


class InitDataInvalid(Exception):
    """initData that is missing, malformed, forged or too old (the reason is for the logs)."""


@dataclass(frozen=True)
class WebAppUser:
    """Who opened the page, from checked initData."""

    id: int
    language_code: str | None
    auth_date: dt.datetime


def secret_key(bot_token: str) -> bytes:
    return hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()


def data_check_string(fields: dict[str, str]) -> str:
    return "\n".join(f"{key}={fields[key]}" for key in sorted(fields) if key != "hash")


def sign(fields: dict[str, str], bot_token: str) -> str:
    """The `hash` Telegram would give these fields."""
    message = data_check_string(fields).encode()
    return hmac.new(secret_key(bot_token), message, hashlib.sha256).hexdigest()


def check_init_data(
    init_data: str, bot_token: str, *, now: dt.datetime | None = None
) -> WebAppUser:
    """The person behind `init_data`, or InitDataInvalid."""
    if not init_data or len(init_data) > MAX_INIT_DATA_LENGTH:
        raise InitDataInvalid("missing or too long")
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError as error:
        raise InitDataInvalid("not a query string") from error
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise InitDataInvalid("a field is repeated")
    given = fields.get("hash", "")
    if not hmac.compare_digest(given.encode(), sign(fields, bot_token).encode()):
        raise InitDataInvalid("wrong hash")
    now = now or dt.datetime.now(dt.UTC)
    try:
        auth_date = dt.datetime.fromtimestamp(int(fields["auth_date"]), dt.UTC)
        user = json.loads(fields["user"])
        user_id = user["id"]
    except (KeyError, ValueError, TypeError, OverflowError) as error:
        raise InitDataInvalid("no auth_date or user") from error
    if not isinstance(user_id, int) or isinstance(user_id, bool) or user_id <= 0:
        raise InitDataInvalid("no user id")
    if now - auth_date > MAX_AGE:
        raise InitDataInvalid("older than 24 hours")
    if auth_date - now > CLOCK_SKEW:
        raise InitDataInvalid("from the future")
    language = user.get("language_code")
    return WebAppUser(user_id, language if isinstance(language, str) else None, auth_date)
