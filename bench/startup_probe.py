"""Start the bot in a fresh process, answer one question, print what it cost (one JSON line).

    python -m bench.startup_probe DATABASE_URL

The parent notes `time.time()` just before it starts this process and compares it with
`answered_at`, so the time to the first answer includes the interpreter's own start-up and
every import.
"""

from __future__ import annotations

import time

MODULE_STARTED = time.time()

import asyncio  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

QUESTION = "Who are the partners?"


def memory_kb() -> dict[str, int]:
    """Peak and current resident memory from /proc/self/status (and getrusage's peak)."""
    found = {"ru_maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in {"VmHWM", "VmRSS"}:
            found[f"{name}_kb"] = int(value.split()[0])
    return found


async def probe(database_url: str) -> dict[str, object]:
    from bench.harness import bench_settings
    from devtools.local_api import LocalBotApi, LocalChat, LocalRequest
    from handlers.app import build_application
    from handlers.context import services_of
    from handlers.runtime import running

    imported = time.time()
    api = LocalBotApi()
    application = build_application(bench_settings(database_url), request=LocalRequest(api))
    async with running(application):
        initialized = time.time()
        calls = await LocalChat(application, api, user_id=4_000_000).send(QUESTION)
        answered_at = time.time()
        after_answer = memory_kb()
        audience = None
        broadcasts = getattr(services_of(application), "broadcasts", None)
        if broadcasts is not None and hasattr(broadcasts, "count"):
            # What composing a broadcast loads: every subscriber's id.
            audience = await broadcasts.count("all")
    return {
        "answered": any(c.method == "sendMessage" and "Huawei" in c.text for c in calls)
        or any("Huawei" in str(b.get("text")) for c in calls for b in c.buttons()),
        "module_started": MODULE_STARTED,
        "imported": imported,
        "initialized": initialized,
        "answered_at": answered_at,
        "memory_after_answer": after_answer,
        "memory_after_audience": memory_kb(),
        "audience": audience,
    }


def main() -> None:
    database_url = sys.argv[1]
    result = asyncio.run(probe(database_url))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
