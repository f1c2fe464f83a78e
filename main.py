"""Focus Bot command line: run (polling, default) | webhook | migrate | chat | check-content."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

from pydantic import ValidationError

from bot.content import ContentInvalid, load_content
from bot.i18n import plain
from bot.logging_setup import configure_logging, settings_secrets
from bot.schema import SchemaNotReady
from bot.settings import Settings, settings_problems

CHAT_DATABASE_URL = "sqlite+aiosqlite:///./data/chat.sqlite3"


def print_content_errors(error: ContentInvalid, settings: Settings) -> None:
    print(
        plain(
            "cli.content_invalid", "en", directory=settings.content_dir, count=len(error.errors)
        ),
        file=sys.stderr,
    )
    for item in error.errors:
        print(f"  - {item}", file=sys.stderr)


def check_content(settings: Settings) -> int:
    try:
        content = load_content(settings.content_dir)
    except ContentInvalid as error:
        print_content_errors(error, settings)
        return 1
    print(
        plain(
            "cli.content_ok",
            "en",
            sessions=len(content.sessions),
            organizations=len(content.organizations),
            faqs=len(content.faqs),
        )
    )
    return 0


def run_polling(settings: Settings) -> int:
    from telegram.error import InvalidToken, NetworkError

    from handlers.app import build_application
    from handlers.runtime import Site
    from handlers.updates import serve_polling

    load_content(settings.content_dir)  # its problems first (ContentInvalid): then the token
    if settings.bot_token is None or not settings.bot_token.get_secret_value().strip():
        print(plain("cli.no_token", "en"), file=sys.stderr)
        return 2
    application = build_application(settings)
    site = None
    if settings.web_app_port:  # the Mini App's page and API, on their own small server
        from handlers.webapp_http import web_app

        site = Site(
            lambda runtime: web_app(runtime.application),
            settings.webhook_listen,
            settings.web_app_port,
        )
    # SIGTERM/SIGINT stop it gracefully: updates in progress finish, then the runtime closes.
    try:
        polled = asyncio.run(serve_polling(application, site))
    except InvalidToken:
        print(plain("cli.token_refused", "en"), file=sys.stderr)
        return 2
    except NetworkError as error:
        print(
            plain("cli.api_unreachable", "en", url=settings.api_root, reason=error.message),
            file=sys.stderr,
        )
        return 2
    # Another process polls with this token (Telegram's 409): said in one line, exit 3.
    return 0 if polled else 3


def run_webhook(settings: Settings) -> int:
    from handlers.app import build_application
    from handlers.webhook import serve_webhook, webhook_problem

    load_content(settings.content_dir)  # its problems first (ContentInvalid): then the token
    if settings.bot_token is None or not settings.bot_token.get_secret_value().strip():
        print(plain("cli.no_token", "en"), file=sys.stderr)
        return 2
    problem = webhook_problem(settings)
    if problem is not None:
        print(plain(problem, "en"), file=sys.stderr)
        return 2
    asyncio.run(serve_webhook(build_application(settings), settings))
    return 0


def run_migrate(settings: Settings) -> int:
    from bot.schema import migrate

    key, values = asyncio.run(migrate(settings.database_url))
    print(plain(key, "en", **values))
    return 0


def run_chat(settings: Settings, args: argparse.Namespace) -> int:
    """The terminal chat, on a SQLite file of its own: trying the bot never touches the data
    of the bot that serves people (whatever DATABASE_URL says), unless --database asks."""
    from devtools.chat import run_chat as chat

    settings = settings.model_copy(update={"database_url": args.database})
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(chat(settings, user_id=args.user_id, language=args.lang))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python main.py", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot by long polling (the default)")
    sub.add_parser("webhook", help="serve Telegram webhooks (WEBHOOK_URL, WEBHOOK_SECRET, ...)")
    sub.add_parser("migrate", help="upgrade the database schema to this version (Alembic)")
    chat = sub.add_parser("chat", help="talk to the bot in this terminal, no token needed")
    chat.add_argument("--user-id", type=int, default=1, help="your numeric user id (default 1)")
    chat.add_argument("--lang", default=None, help="en, es or ca (default en)")
    chat.add_argument(
        "--database",
        default=CHAT_DATABASE_URL,
        help=f"the terminal chat's own database (default {CHAT_DATABASE_URL})",
    )
    sub.add_parser("check-content", help="validate the YAML content and list every problem")
    args = parser.parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as error:
        for line in settings_problems(error):
            print(line, file=sys.stderr)
        return 2
    configure_logging(
        settings.log_level if args.command != "chat" else "WARNING", settings_secrets(settings)
    )
    try:
        if args.command == "check-content":
            return check_content(settings)
        if args.command == "chat":
            return run_chat(settings, args)
        if args.command == "webhook":
            return run_webhook(settings)
        if args.command == "migrate":
            return run_migrate(settings)
        return run_polling(settings)
    except ContentInvalid as error:
        print_content_errors(error, settings)
        return 1
    except SchemaNotReady as error:
        print(plain(error.key, "en", **error.values), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
