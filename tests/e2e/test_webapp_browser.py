"""The Mini App in a real browser: the distribution's headless Chromium, driven by Playwright.

Each test serves /app/ from its own aiohttp server on loopback, with the real Application,
services and database, and opens the page with a simulated `window.Telegram.WebApp` whose
initData is signed with the test token (Telegram's own script is blocked: the page must work
without it). Screenshots at 360x740, light and dark, go to tests/artifacts/.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import select
from telegram.ext import Application

from bot.models.agenda import SavedSession
from devtools.local_api import BOT_USERNAME
from handlers.context import services_of
from handlers.webapp_http import add_web_app_routes
from tests.e2e.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.test_webapp_api import PERSON, signed_init_data

playwright_api = pytest.importorskip(
    "playwright.async_api", reason="playwright is not installed (pip install -e '.[test]')"
)
pytestmark = [
    pytest.mark.skipif(
        not Path(CHROMIUM).is_file(),
        reason="Chromium is not installed: apt-get install chromium (.ci/run does)",
    ),
    pytest.mark.timeout(90),
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
PHONE = {"width": 360, "height": 740}
STEP_TIMEOUT_MS = 15_000
LIGHT = {
    "bg_color": "#ffffff",
    "text_color": "#000000",
    "hint_color": "#707579",
    "link_color": "#3390ec",
    "button_color": "#3390ec",
    "button_text_color": "#ffffff",
    "secondary_bg_color": "#f4f4f5",
    "section_bg_color": "#ffffff",
}
DARK = {
    "bg_color": "#212121",
    "text_color": "#ffffff",
    "hint_color": "#aaaaaa",
    "link_color": "#8774e1",
    "button_color": "#8774e1",
    "button_text_color": "#ffffff",
    "secondary_bg_color": "#0f0f0f",
    "section_bg_color": "#212121",
}


def telegram_stub(init_data: str, user: dict[str, Any], theme: dict[str, str], scheme: str) -> str:
    """What telegram-web-app.js would set up inside Telegram, as an init script."""
    web_app = {
        "initData": init_data,
        "initDataUnsafe": {"user": user},
        "themeParams": theme,
        "colorScheme": scheme,
        "platform": "tdesktop",
        "version": "8.0",
    }
    # openTelegramLink records its links (window.telegramLinks) for the tests to read.
    methods = (
        "{ready() {}, expand() {}, onEvent() {}, openLink() {},"
        " openTelegramLink(url) {"
        " (window.telegramLinks = window.telegramLinks || []).push(url); },"
        " HapticFeedback: {selectionChanged() {}}}"
    )
    return f"window.Telegram = {{WebApp: Object.assign({json.dumps(web_app)}, {methods})}};"


@pytest.fixture
async def base_url(app: Application) -> AsyncIterator[str]:  # type: ignore[type-arg]
    web_app = web.Application()
    add_web_app_routes(web_app, app)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/app/"
    finally:
        await runner.cleanup()


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[Any]:
    """A fresh Chromium profile for each test; Telegram's script never reaches the network."""
    async with playwright_api.async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=PHONE,
            timeout=STEP_TIMEOUT_MS * 2,
        )
        context.set_default_timeout(STEP_TIMEOUT_MS)
        await context.route("https://telegram.org/**", lambda route: route.abort())
        try:
            yield context
        finally:
            await context.close()


async def open_page(
    browser: Any,
    base_url: str,
    *,
    user_id: int = PERSON,
    language_code: str = "en",
    token: str | None = None,
    theme: dict[str, str] | None = None,
    scheme: str = "light",
    telegram: bool = True,
) -> Any:
    page = await browser.new_page()
    if telegram:
        user = {"id": user_id, "first_name": "Ada", "language_code": language_code}
        init_data = signed_init_data(user_id, language_code, **({"token": token} if token else {}))
        await page.add_init_script(telegram_stub(init_data, user, theme or LIGHT, scheme))
    await page.goto(base_url)
    await page.wait_for_selector("html[data-ready='1']")
    return page


async def saved_rows(app: Application) -> list[tuple[int, str]]:  # type: ignore[type-arg]
    async with services_of(app).sessions() as session:
        rows = await session.execute(select(SavedSession.user_id, SavedSession.session_id))
        return sorted((r[0], r[1]) for r in rows)


async def screenshot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / name))


async def test_the_timeline_shows_every_session_and_the_draft(
    app: Application,  # type: ignore[type-arg]
    browser: Any,
    base_url: str,
) -> None:
    page = await open_page(browser, base_url)
    content = services_of(app).content.content
    ids = await page.eval_on_selector_all(
        "#timeline article.session", "cards => cards.map(c => c.dataset.session)"
    )
    assert ids == [s.id for s in content.sessions]
    kinds = await page.eval_on_selector_all(
        "#timeline article.session", "cards => cards.map(c => c.dataset.kind)"
    )
    assert kinds == [s.kind.value for s in content.sessions]
    assert {"panel", "side_event", "break"} <= set(kinds)
    draft = page.locator("#draft")
    assert await draft.is_visible()
    assert "Draft programme" in await draft.inner_text()
    whens = await page.locator(".session .when").all_inner_texts()
    assert len(whens) == len(content.sessions)
    assert all(w.startswith("🕘 ") and w.endswith("(indicative)") for w in whens)
    assert await page.locator("#read-only").is_hidden()
    await screenshot(page, "webapp-light-360x740.png")
    # A card opens to its description, topics, speakers "to be announced" and calendar file.
    await page.click("#s-panel-fibre .session-open")
    details = page.locator("#d-panel-fibre")
    text = await details.inner_text()
    assert "to be announced" in text
    assert "backbone cable" in text
    link = details.locator("a", has_text="Calendar file")
    assert await link.get_attribute("href") == "calendar/panel-fibre.ics?lang=en"
    # The partners and side-event organizers' cards.
    await page.click("#tab-organizations")
    assert await page.locator("#o-lumen").is_visible()
    assert await page.locator("#role-side_event_organizer").is_visible()


async def test_ask_the_panel_opens_the_sessions_questions_in_the_chat(
    browser: Any, base_url: str
) -> None:
    page = await open_page(browser, base_url)
    await page.click("#s-panel-fibre .session-open")
    ask = page.locator("#d-panel-fibre button.ask")
    assert await ask.is_visible()
    assert await ask.inner_text() == "❓ Ask the panel"
    await ask.click()
    opened = await page.evaluate("window.telegramLinks")
    assert opened == [f"https://t.me/{BOT_USERNAME}?start=ask-panel-fibre"]
    # A break takes no questions: its card has no such button.
    await page.click("#s-coffee-break .session-open")
    assert await page.locator("#d-coffee-break").is_visible()
    assert await page.locator("#d-coffee-break button.ask").count() == 0


async def test_ask_the_panel_outside_telegram_opens_the_link_in_a_new_window(
    browser: Any, base_url: str
) -> None:
    page = await browser.new_page()
    await page.add_init_script("window.open = (url, target) => { window.opened = [url, target] }")
    await page.goto(base_url)
    await page.wait_for_selector("html[data-ready='1']")
    await page.click("#s-panel-fibre .session-open")
    await page.click("#d-panel-fibre button.ask")
    opened = await page.evaluate("window.opened")
    assert opened == [f"https://t.me/{BOT_USERNAME}?start=ask-panel-fibre", "_blank"]


async def test_the_dark_theme_follows_telegram(browser: Any, base_url: str) -> None:
    page = await open_page(browser, base_url, theme=DARK, scheme="dark")
    background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(15, 15, 15)"  # DARK's secondary_bg_color
    card = await page.evaluate(
        "getComputedStyle(document.querySelector('.session')).backgroundColor"
    )
    assert card == "rgb(33, 33, 33)"  # DARK's section_bg_color
    await screenshot(page, "webapp-dark-360x740.png")


async def test_saving_in_the_page_is_saved_in_the_chats_agenda(
    app: Application,  # type: ignore[type-arg]
    browser: Any,
    base_url: str,
) -> None:
    page = await open_page(browser, base_url)
    save = page.locator("#s-panel-fibre button.save")
    assert await save.get_attribute("aria-pressed") == "false"
    await save.click()
    await page.wait_for_selector("#s-panel-fibre button.save[aria-pressed='true']")
    agenda = services_of(app).agenda
    assert await agenda.saved(PERSON) == {"panel-fibre"}
    assert await saved_rows(app) == [(PERSON, "panel-fibre")]
    # Saved from the chat: the page shows it after a reload; the Saved filter shows both.
    await agenda.save(PERSON, "opening")
    await page.reload()
    await page.wait_for_selector("html[data-ready='1']")
    assert await page.locator("#s-opening button.save").get_attribute("aria-pressed") == "true"
    await page.click("button[data-filter='saved']")
    shown = await page.eval_on_selector_all(
        "#timeline article.session", "cards => cards.map(c => c.dataset.session)"
    )
    assert shown == ["opening", "panel-fibre"]
    # Removing it in the page removes the chat's row.
    await page.click("#s-opening button.save")
    await page.wait_for_selector("#s-opening", state="detached")
    assert await agenda.saved(PERSON) == {"panel-fibre"}


async def test_search_finds_a_misspelled_partner(browser: Any, base_url: str) -> None:
    page = await open_page(browser, base_url)
    await page.fill("#search-input", "lumen telcom")
    await page.click("#search-button")
    first = page.locator("#results .result-button").first
    await first.wait_for()
    assert "Lumen Telecom" in await first.inner_text()
    await first.click()
    assert await page.locator("#organizations").is_visible()
    assert await page.locator("#o-lumen .session-open").get_attribute("aria-expanded") == "true"


async def test_the_language_follows_the_bot_setting_then_telegram(
    app: Application,  # type: ignore[type-arg]
    browser: Any,
    base_url: str,
) -> None:
    await services_of(app).users.set_language(PERSON, "ca")
    catalan = await open_page(browser, base_url, language_code="es")
    assert await catalan.evaluate("document.documentElement.lang") == "ca"
    assert await catalan.locator("button[data-filter='all']").inner_text() == "Tot"
    assert (await catalan.locator(".session .when").first.inner_text()).endswith("(orientatiu)")
    spanish = await open_page(browser, base_url, user_id=PERSON + 1, language_code="es")
    assert await spanish.evaluate("document.documentElement.lang") == "es"
    assert await spanish.locator("button[data-filter='all']").inner_text() == "Todo"
    assert "Programa provisional" in await spanish.locator("#draft").inner_text()


async def test_forged_init_data_gets_401_and_a_read_only_programme(
    app: Application,  # type: ignore[type-arg]
    browser: Any,
    base_url: str,
) -> None:
    page = await browser.new_page()
    statuses: list[int] = []
    page.on(
        "response",
        lambda response: statuses.append(response.status) if "/api/" in response.url else None,
    )
    user = {"id": PERSON, "first_name": "Mallory", "language_code": "en"}
    forged = signed_init_data(PERSON, "en", token="999:not-this-bot")
    await page.add_init_script(telegram_stub(forged, user, LIGHT, "light"))
    await page.goto(base_url)
    await page.wait_for_selector("html[data-ready='1']")
    assert statuses[:2] == [401, 200]  # refused, then the programme for anyone
    content = services_of(app).content.content
    assert await page.locator("#timeline article.session").count() == len(content.sessions)
    assert await page.locator("#read-only").is_visible()
    assert await page.locator("button.save:enabled").count() == 0
    assert await page.locator("button[data-filter='saved']").count() == 0
    # The same call the page makes, with the forged data: 401, and nothing saved.
    status = await page.evaluate(
        """async (initData) => (await fetch('api/saved/opening', {method: 'PUT',
            headers: {'Authorization': 'tma ' + initData, 'Content-Type': 'application/json'},
            body: JSON.stringify({saved: true})})).status""",
        forged,
    )
    assert status == 401
    assert await saved_rows(app) == []


async def test_without_telegram_the_page_is_a_read_only_programme(
    app: Application,  # type: ignore[type-arg]
    browser: Any,
    base_url: str,
) -> None:
    page = await open_page(browser, base_url, telegram=False)
    content = services_of(app).content.content
    assert await page.locator("#timeline article.session").count() == len(content.sessions)
    assert await page.locator("#read-only").is_visible()


@pytest.mark.parametrize("font_scale", [1, 2])
async def test_a_phone_with_large_fonts_no_overflow_and_44px_targets(
    browser: Any, base_url: str, font_scale: int
) -> None:
    page = await open_page(browser, base_url)
    await page.evaluate(f"document.documentElement.style.fontSize = '{16 * font_scale}px'")
    await page.click("#s-side-event-otn .session-open")
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    small = await page.evaluate(
        """() => [...document.querySelectorAll('button, a, input')]
            .filter(e => e.offsetParent !== null)
            .map(e => [e.textContent.trim().slice(0, 30) || e.id, e.getBoundingClientRect()])
            .filter(([, r]) => r.width < 44 || r.height < 44)
            .map(([name, r]) => `${name}: ${Math.round(r.width)}x${Math.round(r.height)}`)"""
    )
    assert small == []
