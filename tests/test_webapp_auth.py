"""initData is checked as Telegram documents: the HMAC with the bot token, and its age."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from urllib.parse import quote, urlencode

import pytest

from bot.webapp.auth import InitDataInvalid, check_init_data
from tests.conftest import TOKEN

# Computed outside Python, with openssl, following https://core.telegram.org/bots/webapps:
#   key  = HMAC-SHA256(key "WebAppData", message TOKEN)
#   hash = HMAC-SHA256(key, "auth_date=...\nquery_id=...\nuser=...")
# (printf '%s' "$TOKEN" | openssl dgst -sha256 -mac HMAC -macopt key:WebAppData -binary ...)
KNOWN_USER = '{"id":279058397,"first_name":"Vladislav","language_code":"ca"}'
KNOWN_HASH = "8a8660cf0209e8caab31a1c086b5204c6850a83f242805c3c1751a998af8c53a"
KNOWN_AUTH_DATE = 1700000000
KNOWN_INIT_DATA = (
    f"query_id=AAHdF6IQAAAAAN0XohDhrOrc&user={quote(KNOWN_USER)}"
    f"&auth_date={KNOWN_AUTH_DATE}&hash={KNOWN_HASH}"
)
AT_KNOWN_TIME = dt.datetime.fromtimestamp(KNOWN_AUTH_DATE, dt.UTC) + dt.timedelta(minutes=1)


def independent_init_data(token: str, user: dict[str, object], auth_date: int) -> str:
    """Sign the way Telegram does, written here again (not with bot.webapp.auth)."""
    fields = {"auth_date": str(auth_date), "user": json.dumps(user), "query_id": "q1"}
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    key = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(key, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)


def now_ts() -> int:
    return int(dt.datetime.now(dt.UTC).timestamp())


def test_the_known_vector_is_accepted_with_the_person_from_it() -> None:
    person = check_init_data(KNOWN_INIT_DATA, TOKEN, now=AT_KNOWN_TIME)
    assert person.id == 279058397
    assert person.language_code == "ca"


def test_the_known_vector_with_another_token_is_refused() -> None:
    with pytest.raises(InitDataInvalid):
        check_init_data(KNOWN_INIT_DATA, "123:other-token", now=AT_KNOWN_TIME)


def test_freshly_signed_data_is_accepted() -> None:
    init_data = independent_init_data(TOKEN, {"id": 42, "language_code": "es"}, now_ts())
    person = check_init_data(init_data, TOKEN)
    assert (person.id, person.language_code) == (42, "es")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda d: d.replace("%22id%22%3A+42", "%22id%22%3A+43"),  # another person
        lambda d: d.replace("hash=", "hash=0"),
        lambda d: d.split("&hash=")[0],  # no hash at all
        lambda d: d + "&auth_date=1",  # a field given twice
        lambda d: "",
        lambda d: "not a query string",
    ],
)
def test_forged_data_is_refused(tamper: object) -> None:
    init_data = independent_init_data(TOKEN, {"id": 42}, now_ts())
    assert callable(tamper)
    with pytest.raises(InitDataInvalid):
        check_init_data(tamper(init_data), TOKEN)


def test_data_older_than_a_day_is_refused_and_younger_accepted() -> None:
    day = 24 * 3600
    young = independent_init_data(TOKEN, {"id": 42}, now_ts() - day + 60)
    assert check_init_data(young, TOKEN).id == 42
    old = independent_init_data(TOKEN, {"id": 42}, now_ts() - day - 60)
    with pytest.raises(InitDataInvalid, match="24 hours"):
        check_init_data(old, TOKEN)


def test_data_from_the_future_is_refused() -> None:
    future = independent_init_data(TOKEN, {"id": 42}, now_ts() + 3600)
    with pytest.raises(InitDataInvalid):
        check_init_data(future, TOKEN)


@pytest.mark.parametrize("user", [{"id": "42"}, {"id": True}, {"id": -5}, {"name": "x"}])
def test_a_signed_user_without_a_proper_id_is_refused(user: dict[str, object]) -> None:
    with pytest.raises(InitDataInvalid):
        check_init_data(independent_init_data(TOKEN, user, now_ts()), TOKEN)
