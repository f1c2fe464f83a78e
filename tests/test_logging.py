"""Operations logging: secrets never reach a log line; one line per update handled."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
from collections.abc import Iterator

import pytest

from bot.logging_setup import (
    REDACTED,
    RedactSecrets,
    configure_logging,
    level_number,
    settings_secrets,
)
from devtools.local_api import ApiError, LocalBotApi, LocalChat
from tests.conftest import TOKEN, make_settings

WEBHOOK_SECRET = "hook-secret_123"


@pytest.fixture
def redacted_log() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger writing through a handler that carries the redaction filter, as in main.py."""
    settings = make_settings("sqlite+aiosqlite://", WEBHOOK_SECRET=WEBHOOK_SECRET)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets(settings_secrets(settings)))
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    yield logger, stream
    logger.removeHandler(handler)


def test_the_token_and_webhook_secret_never_appear_in_logs(
    redacted_log: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = redacted_log
    logger.warning("POST https://api.telegram.org/bot%s/getMe failed", TOKEN)
    logger.error("secret in the message itself: " + WEBHOOK_SECRET)
    logger.info("only the secret half: %s", TOKEN.partition(":")[2])
    try:
        raise RuntimeError(f"connection to /bot{TOKEN}/sendMessage refused")
    except RuntimeError:
        logger.exception("traceback with the token")

    output = stream.getvalue()
    assert TOKEN not in output and TOKEN.partition(":")[2] not in output
    assert WEBHOOK_SECRET not in output
    assert output.count(REDACTED) == 4  # each secret replaced, the text around it kept
    assert "RuntimeError: connection to /bot[REDACTED]/sendMessage refused" in output


def test_unknown_log_level_names_are_recognized_as_unknown() -> None:
    assert level_number("debug") == logging.DEBUG
    assert level_number(" WARNING ") == logging.WARNING
    assert level_number("verbose") is None


async def test_one_log_line_per_update_says_what_came_and_how_long_it_took(
    chat: LocalChat, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="bot.updates"):
        await chat.send("/start")
        await chat.send("how many employees does Huawei have")

    lines = [r.getMessage() for r in caplog.records if r.name == "bot.updates"]
    assert len(lines) == 2
    assert " message /start in " in lines[0]
    assert " message text in " in lines[1]  # what came, never the person's words
    assert "Huawei" not in lines[1]
    assert all(line.endswith(" ms") for line in lines)


async def test_a_button_is_logged_by_its_kind(
    chat: LocalChat, caplog: pytest.LogCaptureFixture
) -> None:
    await chat.send("/start")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="bot.updates"):
        await chat.press_data("menu")

    (line,) = [r.getMessage() for r in caplog.records if r.name == "bot.updates"]
    assert " callback_query [menu] in " in line


async def test_a_failing_handler_is_marked_in_its_log_line(
    chat: LocalChat, api: LocalBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse(method: str, params: dict[str, object]) -> ApiError | None:
        return ApiError(400, "Bad Request: chat not found") if method == "sendMessage" else None

    api.interceptors.append(refuse)
    with caplog.at_level(logging.INFO, logger="bot.updates"):
        await chat.send("/start")

    (line,) = [r.getMessage() for r in caplog.records if r.name == "bot.updates"]
    assert " message /start in " in line and line.endswith(" ms (failed: BadRequest)")


def test_building_the_answer_index_logs_nothing_at_info(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """bm25s sets its logger to DEBUG when imported: at LOG_LEVEL=INFO its chatter (every
    start, the terminal chat included) stays out of the log."""
    import bm25s

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("INFO")
    try:
        tokens = bm25s.tokenize(["a first sentence", "another one"], show_progress=False)
        bm25s.BM25().index(tokens, show_progress=False)
        assert "bm25s" not in capsys.readouterr().err
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        logging.captureWarnings(False)


def test_the_answer_index_built_after_the_logging_is_configured_logs_nothing_at_info() -> None:
    """The bot's own order: logging configured first, bm25s imported later (when the answer
    index is first built), which sets its logger to DEBUG again: still nothing at INFO."""
    script = (
        "from bot.logging_setup import configure_logging\n"
        "configure_logging('INFO')\n"
        "from bot.retrieval import bm25s\n"
        "tokens = bm25s.tokenize(['a first sentence', 'another one'], show_progress=False)\n"
        "bm25s.BM25().index(tokens, show_progress=False)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert "bm25s" not in done.stderr, done.stderr
