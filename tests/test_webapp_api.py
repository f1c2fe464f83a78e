"""The Mini App's page and JSON API over HTTP, on the real Application and database."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from telegram.ext import Application

from bot.models.agenda import SavedSession
from bot.webapp.api import WebAppApi
from bot.webapp.auth import sign
from devtools.local_api import BOT_USERNAME, LocalBotApi, LocalChat
from handlers.context import services_of
from handlers.webapp_http import add_web_app_routes
from tests.conftest import TOKEN

PERSON = 4242
BUDGET = 100 * 1024  # page and data, compressed


def signed_init_data(
    user_id: int = PERSON,
    language_code: str | None = "en",
    *,
    token: str = TOKEN,
    age: dt.timedelta = dt.timedelta(minutes=1),
) -> str:
    """initData as Telegram would give it to the page of the bot with `token`."""
    from urllib.parse import urlencode

    user: dict[str, object] = {"id": user_id, "first_name": "Ada"}
    if language_code:
        user["language_code"] = language_code
    auth_date = int((dt.datetime.now(dt.UTC) - age).timestamp())
    fields = {"auth_date": str(auth_date), "query_id": "AAH1", "user": json.dumps(user)}
    fields["hash"] = sign(fields, token)
    return urlencode(fields)


def auth(init_data: str) -> dict[str, str]:
    return {"Authorization": f"tma {init_data}"}


@pytest.fixture
async def client(app: Application) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    web_app = web.Application()
    add_web_app_routes(web_app, app)
    async with TestClient(TestServer(web_app)) as test_client:
        yield test_client


async def saved_rows(app: Application) -> list[tuple[int, str]]:  # type: ignore[type-arg]
    async with services_of(app).sessions() as session:
        rows = await session.execute(select(SavedSession.user_id, SavedSession.session_id))
        return sorted((r[0], r[1]) for r in rows)


async def test_the_page_is_served_with_a_strict_csp(client: TestClient) -> None:
    response = await client.get("/app/")
    assert response.status == 200
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert "script-src 'self' https://telegram.org;" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    html = await response.text()
    assert "telegram-web-app.js" in html
    assert "{{BOOT_STRINGS}}" not in html
    # The only inline script is data (not run, not allowed by the CSP anyway).
    assert html.count("<script>") == 0
    redirect = await client.get("/app", allow_redirects=False)
    assert redirect.status == 301
    assert redirect.headers["Location"] == "/app/"


async def test_page_and_data_fit_the_budget_compressed(client: TestClient) -> None:
    total = 0
    for path in ("/app/", "/app/app.js", "/app/app.css", "/app/api/programme?lang=ca"):
        response = await client.get(path, headers={"Accept-Encoding": "gzip"})
        assert response.status == 200
        body = await response.read()
        total += len(gzip.compress(body))
    assert total <= BUDGET


async def test_the_programme_for_a_reader_without_init_data(
    app: Application,  # type: ignore[type-arg]
    client: TestClient,
) -> None:
    response = await client.get("/app/api/programme?lang=es")
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    data = await response.json()
    content = services_of(app).content.content
    assert [s["id"] for s in data["sessions"]] == [s.id for s in content.sessions]
    assert data["authenticated"] is False
    assert data["saved"] == []
    assert data["lang"] == "es"
    assert data["draft"] is True
    assert data["draft_note"].startswith("Programa provisional")
    assert all(s["when"].endswith("(orientativo)") for s in data["sessions"])
    panel = next(s for s in data["sessions"] if s["kind"] == "panel")
    assert panel["speakers"] == [] and panel["shows_speakers"] is True
    assert data["strings"]["speakers_tba"] == "🎙 Ponentes: por anunciar"
    assert data["event"]["date"] is None
    roles = {o["role"] for o in data["organizations"]}
    assert roles == {"partner", "side_event_organizer"}


async def test_the_language_follows_the_bot_setting_then_telegram(
    app: Application,  # type: ignore[type-arg]
    client: TestClient,
) -> None:
    users = services_of(app).users
    await users.set_language(PERSON, "ca")
    chosen = await client.get(
        "/app/api/programme?lang=en", headers=auth(signed_init_data(language_code="es"))
    )
    assert (await chosen.json())["lang"] == "ca"
    other = 5151
    telegram = await client.get(
        "/app/api/programme?lang=en", headers=auth(signed_init_data(other, "es"))
    )
    assert (await telegram.json())["lang"] == "es"
    unknown = await client.get(
        "/app/api/programme?lang=fr", headers=auth(signed_init_data(other, "fr"))
    )
    assert (await unknown.json())["lang"] == "en"


async def test_saving_writes_the_chats_my_agenda_rows(
    app: Application,  # type: ignore[type-arg]
    client: TestClient,
) -> None:
    agenda = services_of(app).agenda
    headers = auth(signed_init_data())
    response = await client.put(
        "/app/api/saved/panel-fibre", json={"saved": True}, headers=headers
    )
    assert response.status == 200
    assert await response.json() == {"id": "panel-fibre", "saved": True}
    assert await agenda.saved(PERSON) == {"panel-fibre"}
    assert await saved_rows(app) == [(PERSON, "panel-fibre")]
    # Saved in the chat: seen by the page.
    await agenda.save(PERSON, "coffee-break")
    data = await (await client.get("/app/api/programme", headers=headers)).json()
    assert data["authenticated"] is True
    assert set(data["saved"]) == {"panel-fibre", "coffee-break"}
    removed = await client.put(
        "/app/api/saved/panel-fibre", json={"saved": False}, headers=headers
    )
    assert (await removed.json())["saved"] is False
    assert await agenda.saved(PERSON) == {"coffee-break"}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        auth(signed_init_data(token="123:another-bot")),
        auth(signed_init_data(age=dt.timedelta(hours=25))),
        {"Authorization": "Bearer something"},
        auth(signed_init_data().replace("hash=", "hash=ff")),
    ],
    ids=["missing", "forged", "older-than-a-day", "not-tma", "bad-hash"],
)
async def test_a_write_without_valid_init_data_gets_401_and_changes_nothing(
    app: Application,  # type: ignore[type-arg]
    client: TestClient,
    headers: dict[str, str],
) -> None:
    response = await client.put(
        "/app/api/saved/panel-fibre", json={"saved": True}, headers=headers
    )
    assert response.status == 401
    assert await saved_rows(app) == []


async def test_forged_init_data_reading_gets_401(client: TestClient) -> None:
    response = await client.get(
        "/app/api/programme", headers=auth(signed_init_data(token="1:forged"))
    )
    assert response.status == 401


async def test_bad_saves_are_refused(
    app: Application,  # type: ignore[type-arg]
    client: TestClient,
) -> None:
    headers = auth(signed_init_data())
    unknown = await client.put(
        "/app/api/saved/no-such-session", json={"saved": True}, headers=headers
    )
    assert unknown.status == 404
    bad = await client.put("/app/api/saved/opening", data=b"yes", headers=headers)
    assert bad.status == 400
    assert await saved_rows(app) == []


async def test_search_uses_the_answer_engine(client: TestClient) -> None:
    response = await client.get("/app/api/search?q=lumen%20telcom&lang=en")
    data = await response.json()
    found = data["answers"] + data["suggestions"]
    assert found[0]["type"] == "organization"
    assert found[0]["id"] == "lumen"
    side = await (await client.get("/app/api/search?q=actos+paralelos&lang=es")).json()
    assert {"type": "filter", "id": "side_event"}.items() <= side["answers"][0].items()
    nothing = await (await client.get("/app/api/search?q=&lang=en")).json()
    assert nothing["answers"] == nothing["suggestions"] == []


async def test_the_calendar_file_is_a_stub_until_the_event_has_a_date(client: TestClient) -> None:
    response = await client.get("/app/calendar/opening.ics?lang=es")
    assert response.status == 404
    assert "por anunciar" in await response.text()


async def test_text_from_content_is_data_never_markup(client: TestClient) -> None:
    """The page sets every text with textContent; the API sends plain text, not HTML."""
    data = await (await client.get("/app/api/programme")).json()
    texts = [s["title"] for s in data["sessions"]] + list(data["strings"].values())
    assert not any("<b>" in text or "<i>" in text for text in texts)
    script = await (await client.get("/app/app.js")).text()
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script
    assert "document.write" not in script


def test_every_catalog_string_of_the_page_has_three_languages() -> None:
    from bot.i18n import LANGUAGES
    from bot.webapp.api import ui_strings

    english = ui_strings("en")
    for lang in LANGUAGES:
        assert set(ui_strings(lang)) == set(english)
    assert ui_strings("ca")["filter_saved"] != english["filter_saved"]


async def test_api_is_stateless_between_workers(
    app: Application,  # type: ignore[type-arg]
    api: LocalBotApi,
    settings: object,
) -> None:
    """A save through one worker's server is read by another's (the database is the state)."""
    from devtools.local_api import LocalRequest
    from handlers.app import build_application
    from handlers.runtime import running

    other = build_application(settings, request=LocalRequest(api))  # type: ignore[arg-type]
    async with running(other):
        servers = []
        for application in (app, other):
            web_app = web.Application()
            add_web_app_routes(web_app, application)
            servers.append(TestClient(TestServer(web_app)))
        async with servers[0] as first, servers[1] as second:
            headers = auth(signed_init_data())
            await first.put("/app/api/saved/opening", json={"saved": True}, headers=headers)
            data = await (await second.get("/app/api/programme", headers=headers)).json()
            assert data["saved"] == ["opening"]


async def test_sessions_that_take_questions_link_to_ask_the_panel_in_the_chat(
    app: Application,  # type: ignore[type-arg]
    client: TestClient,
    chat: LocalChat,
) -> None:
    """The runtime gives the web API the running bot's username: a panel's card links to its
    live questions in the chat (/start ask-<session>), a break's does not."""
    data = await (await client.get("/app/api/programme?lang=ca")).json()
    links = {s["id"]: s["ask"] for s in data["sessions"]}
    assert links["panel-fibre"] == f"https://t.me/{BOT_USERNAME}?start=ask-panel-fibre"
    assert links["side-event-otn"] == f"https://t.me/{BOT_USERNAME}?start=ask-side-event-otn"
    assert links["coffee-break"] is None and links["river-lunch"] is None
    assert data["strings"]["ask"] == "❓ Pregunta al panell"
    # The link's start parameter opens that session's questions in the chat.
    start = links["panel-fibre"].partition("?start=")[2]
    room = await chat.send(f"/start {start}")
    assert "Questions for" in room[-1].text and "Fibre along the valley" in room[-1].text


async def test_without_the_bots_username_there_is_no_ask_link(
    app: Application,  # type: ignore[type-arg]
) -> None:
    services = services_of(app)
    web_api = WebAppApi(
        services.content_version, services.users, services.agenda, TOKEN, bot_username=None
    )
    data = await web_api.programme(None, "en")
    assert [s["ask"] for s in data["sessions"]] == [None] * len(data["sessions"])
