"""`python -m bench.webapp_render`: the Mini App's time to first render in headless Chromium.

The bot (real Application, services and a temporary SQLite database) serves /app/ on
loopback; Chromium (the distribution's, driven by Playwright) opens the page as a signed-in
person with a simulated `window.Telegram.WebApp`, N times. "First render" is the page's own
mark: `performance.now()` (from navigation start) once the timeline is in the DOM, after
the programme's JSON arrived. Measured on loopback and
on a throttled phone link (150 ms round trip, 1.6 Mb/s down, 750 kb/s up). Telegram's own
script is blocked (no network here): inside Telegram it loads first (it is cached after the
first opening). Also reports the compressed size of page + data (budget 100 KB).
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import statistics
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, web

from bench.harness import TOKEN, bench_settings, quiet_logging, sqlite_url
from bot.webapp.auth import sign
from devtools.local_api import LocalBotApi, LocalRequest
from handlers.app import build_application
from handlers.runtime import running
from handlers.webapp_http import add_web_app_routes
from tests.e2e.chromium import CHROMIUM
from tests.e2e.chromium import CHROMIUM_ARGS as ARGS

PHONE_LINK = {
    "offline": False,
    "latency": 150,
    "downloadThroughput": 1_600_000 / 8,
    "uploadThroughput": 750_000 / 8,
}


def init_data(user_id: int) -> str:
    user = json.dumps({"id": user_id, "first_name": "Bench", "language_code": "en"})
    fields = {"auth_date": str(int(time.time())), "user": user}
    fields["hash"] = sign(fields, TOKEN)
    return urllib.parse.urlencode(fields)


def stub(user_id: int) -> str:
    web_app = {"initData": init_data(user_id), "initDataUnsafe": {}, "themeParams": {}}
    return f"window.Telegram = {{WebApp: {json.dumps(web_app)}}};"


async def compressed_size(base: str) -> int:
    total = 0
    async with ClientSession() as http:
        for path in ("", "app.js", "app.css", "api/programme?lang=en"):
            async with http.get(base + path) as response:
                total += len(gzip.compress(await response.read()))
    return total


async def loads(context: Any, base: str, runs: int, link: dict[str, Any] | None) -> list[float]:
    render: list[float] = []
    for run in range(runs):
        page = await context.new_page()
        if link:
            cdp = await context.new_cdp_session(page)
            await cdp.send("Network.enable")
            await cdp.send("Network.emulateNetworkConditions", link)
        await page.add_init_script(stub(1000 + run))
        await page.goto(base)
        await page.wait_for_selector("html[data-ready='1']")
        render.append(await page.evaluate("window.firstRenderMs"))
        await page.close()
    return render


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered):.0f} ms, p95 {p95:.0f} ms"


async def run(runs: int) -> dict[str, str]:
    from playwright.async_api import async_playwright

    with tempfile.TemporaryDirectory() as folder:
        settings = bench_settings(sqlite_url(Path(folder)))
        application = build_application(settings, request=LocalRequest(LocalBotApi()))
        async with running(application):
            app = web.Application()
            add_web_app_routes(app, application)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            base = f"http://127.0.0.1:{runner.addresses[0][1]}/app/"
            try:
                size = await compressed_size(base)
                async with async_playwright() as playwright:
                    context = await playwright.chromium.launch_persistent_context(
                        str(Path(folder) / "profile"),
                        executable_path=CHROMIUM,
                        headless=True,
                        args=ARGS,
                        viewport={"width": 360, "height": 740},
                    )
                    await context.route("https://telegram.org/**", lambda route: route.abort())
                    local = await loads(context, base, runs, None)
                    phone = await loads(context, base, max(3, runs // 4), PHONE_LINK)
                    await context.close()
            finally:
                await runner.cleanup()
    return {
        "Page + data, gzip": f"{size / 1024:.1f} KB (budget 100 KB)",
        f"First render, loopback ({runs} loads)": summary(local),
        "First render, phone link (150 ms RTT, 1.6 Mb/s)": summary(phone),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.webapp_render")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    quiet_logging()
    results = asyncio.run(run(args.runs))
    print("| Mini App | Result |\n|---|---|")
    for name, value in results.items():
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
