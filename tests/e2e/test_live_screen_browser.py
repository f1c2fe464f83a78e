"""The room's screen in a real browser (the distribution's headless Chromium, Playwright):
approved questions by votes, a vote or an approval in the chat shows within 2 seconds
without a reload, anonymous askers unnamed, user text never run as HTML. A 1280x720
screenshot goes to tests/artifacts/ (docs/images/ holds the README's copy)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from telegram.ext import Application

from devtools.local_api import LocalBotApi
from handlers.context import services_of
from handlers.webapp_http import add_web_app_routes
from tests.conftest import ORGANIZER_ID, chat_for
from tests.e2e.chromium import CHROMIUM, CHROMIUM_ARGS

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
PROJECTOR = {"width": 1280, "height": 720}
PANEL = "panel-fibre"
UPDATE_WITHIN_MS = 2_000


@pytest.fixture
async def root_url(app: Application) -> AsyncIterator[str]:  # type: ignore[type-arg]
    server = web.Application()
    add_web_app_routes(server, app)  # the Mini App's routes bring the screen's
    runner = web.AppRunner(server, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[Any]:
    async with playwright_api.async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=PROJECTOR,
            timeout=30_000,
        )
        context.set_default_timeout(15_000)
        try:
            yield context
        finally:
            await context.close()


async def question_texts(page: Any) -> list[str]:
    return list(await page.locator("#questions .text").all_inner_texts())


async def until(check: Callable[[], Awaitable[bool]], limit_ms: int) -> float:
    """Seconds until `check` holds (the page's CSP forbids Playwright's own string waits)."""
    started = time.monotonic()
    while not await check():
        if time.monotonic() - started > limit_ms / 1000:
            raise AssertionError("the screen did not change in time")
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def test_the_screen_follows_the_room_within_two_seconds(
    app: Application,  # type: ignore[type-arg]
    api: LocalBotApi,
    browser: Any,
    root_url: str,
) -> None:
    organizer = chat_for(app, api, ORGANIZER_ID)
    await organizer.send(f"/live {PANEL}")
    await organizer.press("Open questions")
    askers = [
        (1, "Ada", "How can small municipalities fund rural fibre?", False),
        (2, "Bo", "Which skills programmes reach older people? <b>not bold</b>", True),
        (3, "Cy", "What does the 5G rollout mean for local shops?", False),
    ]
    service = services_of(app).live
    ids = []
    for user_id, name, text, anonymous in askers:
        await service.begin_question(user_id, PANEL)
        if anonymous:
            await service.toggle_anonymous(user_id)
        question = await service.ask(user_id, name, text)
        ids.append(question.id)
    for question_id in ids[:2]:
        await organizer.press_data(f"lva:ap:{PANEL}:{question_id}")
    for voter in range(10, 14):
        await chat_for(app, api, voter).press_data(f"lvv:{PANEL}:{ids[1]}")
    await chat_for(app, api, 20).press_data(f"lvv:{PANEL}:{ids[0]}")
    key = await service.screen_key(ORGANIZER_ID, PANEL)

    page = await browser.new_page()
    await page.goto(f"{root_url}/live/{PANEL}?key={key}")
    await page.wait_for_selector("html[data-ready='1']")
    # Approved only, by votes; the anonymous asker unnamed; markup shown as text.
    assert await question_texts(page) == [askers[1][2], askers[0][2]]
    names = await page.locator("#questions .name").all_inner_texts()
    assert names == ["Anonymous", "Ada"]
    assert await page.locator("#questions b").count() == 0
    assert "▲ 4" in await page.locator("#questions .votes").first.inner_text()
    size = await page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('#questions .text')).fontSize)"
    )
    assert size >= 30  # readable from the back of the room on a 1280-px projector

    # An approval and votes in the chat: on the screen within 2 s, without a reload.
    await page.evaluate("window.__same_page = true")
    started = time.monotonic()
    await organizer.press_data(f"lva:ap:{PANEL}:{ids[2]}")
    for voter in range(30, 36):
        await chat_for(app, api, voter).press_data(f"lvv:{PANEL}:{ids[2]}")

    async def on_top() -> bool:
        texts = await question_texts(page)
        return bool(texts) and texts[0] == askers[2][2]

    await until(on_top, UPDATE_WITHIN_MS + 1_000)
    waited = time.monotonic() - started
    assert await page.evaluate("window.__same_page === true")  # not reloaded
    assert waited < UPDATE_WITHIN_MS / 1000 + 1.0  # the chat's presses took part of it
    # Pinned: shown apart, as the next one.
    await organizer.press_data(f"lva:pn:{PANEL}:{ids[0]}")
    await page.locator("#pinned").wait_for(state="visible", timeout=UPDATE_WITHIN_MS + 1_000)
    assert askers[0][2] in await page.locator("#pinned").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "live-screen-1280x720.png"))

    # A forgotten asker disappears from the screen too.
    cy = chat_for(app, api, 3)
    await cy.send("/forget")
    await cy.press("Yes")

    async def gone() -> bool:
        return askers[2][2] not in await question_texts(page)

    await until(gone, UPDATE_WITHIN_MS + 1_000)


async def test_a_wrong_key_shows_nothing(
    app: Application,  # type: ignore[type-arg]
    browser: Any,
    root_url: str,
) -> None:
    page = await browser.new_page()
    response = await page.goto(f"{root_url}/live/{PANEL}?key=guess")
    assert response.status == 403
    assert "not valid" in await page.inner_text("body")
