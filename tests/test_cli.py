"""The command line (main.py): what it says when the settings, the content or the token are
wrong, and what `migrate` reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.schema import head_revision
from main import main

SETTINGS = (
    "ADMIN_IDS",
    "ORGANIZER_IDS",
    "ORGANIZER_CHAT_ID",
    "BROADCAST_RATE",
    "SEND_RATE_LIMIT",
    "WEBHOOK_PORT",
    "WEB_APP_URL",
    "WEB_APP_PORT",
    "BOT_TOKEN",
    "BOT_API_URL",
    "WEBHOOK_URL",
    "WEBHOOK_SECRET",
    "DATABASE_URL",
    "CONTENT_DIR",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Only what a test sets: no variable of the machine, no .env file."""
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def errors_of(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().err.splitlines()


def test_ids_that_are_not_numbers_are_named_in_one_plain_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ADMIN_IDS", "@maria")
    monkeypatch.setenv("ORGANIZER_IDS", "123456789, maria_r ,42")
    assert main(["check-content"]) == 2
    assert errors_of(capsys) == [
        "ADMIN_IDS must be numeric Telegram ids, e.g. 123456789; got '@maria'",
        "ORGANIZER_IDS must be numeric Telegram ids, e.g. 123456789; got 'maria_r'",
    ]


def test_numbers_out_of_range_say_the_allowed_range(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BROADCAST_RATE", "100")
    monkeypatch.setenv("SEND_RATE_LIMIT", "fast")
    monkeypatch.setenv("WEBHOOK_PORT", "99999")
    monkeypatch.setenv("ORGANIZER_CHAT_ID", "@organizers")
    assert main(["check-content"]) == 2
    lines = errors_of(capsys)
    assert lines == [
        "ORGANIZER_CHAT_ID must be a numeric Telegram chat id, e.g. -1001234567890; "
        "got '@organizers'",
        "BROADCAST_RATE must be a number greater than 0 and at most 30; got '100'",
        "SEND_RATE_LIMIT must be a number greater than 0; got 'fast'",
        "WEBHOOK_PORT must be a whole number at least 1 and at most 65535; got '99999'",
    ]


def test_a_web_app_url_that_is_not_https(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WEB_APP_URL", "http://example.org/app")
    assert main(["check-content"]) == 2
    assert errors_of(capsys) == [
        "WEB_APP_URL must be a public https:// address (Telegram's rule); "
        "got 'http://example.org/app'"
    ]


def test_migrate_on_a_fresh_database_says_it_created_the_schema(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'fresh.sqlite3'}")
    assert main(["migrate"]) == 0
    head = head_revision()
    assert capsys.readouterr().out.strip() == f"Created the database schema at revision {head}."
    assert main(["migrate"]) == 0
    assert "already at the newest revision" in capsys.readouterr().out


def test_outside_the_project_it_says_where_the_content_is_looked_for(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["check-content"]) == 1  # run in tmp_path: no content/ here
    errors = errors_of(capsys)
    assert len(errors) == 2, errors  # the heading, and one line for the folder (not per file)
    assert f"content: folder not found ({tmp_path / 'content'})" in errors[1]
    assert "cd into the project's folder" in errors[1] and "CONTENT_DIR" in errors[1]


def test_broken_content_is_said_before_the_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The content is checked before the token is used (or found missing): with a token and
    an unreachable Bot API, or with no token, the content's problems are what is said."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}")
    monkeypatch.setenv("BOT_API_URL", "http://127.0.0.1:9")  # nothing listens there
    for token in ("123:abc", None):
        if token:
            monkeypatch.setenv("BOT_TOKEN", token)
        else:
            monkeypatch.delenv("BOT_TOKEN")
        for command in (["run"], ["webhook"]):
            assert main(command) == 1
            errors = errors_of(capsys)
            assert "Problems in the content" in errors[0], errors
            assert not [line for line in errors if "BOT_" in line or "WEBHOOK_" in line]
