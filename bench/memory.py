"""Benchmark 4: resident memory and start-up time of a fresh bot process.

The database gets 10,000 subscribers and 1,000 stored speaking-slot requests first; then
`python -m bench.startup_probe` is started (once to warm the disk cache, then measured a few
times): it builds the application, initializes it, answers one question and reports its peak
resident memory (VmHWM) and when the answer went out.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from bench.harness import ROOT, create_schema, sqlite_url
from bench.report import Section
from bot.db import create_engine
from bot.models import User
from bot.models.base import utcnow

SUBSCRIBERS = 10_000
REQUESTS = 1_000
FIRST_ID = 5_000_000
TARGET_MB = 150
TARGET_SECONDS = 2.0


def proposal_rows(now: dt.datetime) -> tuple[Any, list[dict[str, object]]] | None:
    """1,000 stored requests, if this bot has the speaking-slot feature."""
    try:
        from bot.models import Proposal  # type: ignore[attr-defined]
    except ImportError:
        return None
    states = ("submitted", "accepted", "declined", "withdrawn")
    rows: list[dict[str, object]] = [
        {
            "user_id": FIRST_ID + n * 7,
            "language": ("en", "es", "ca")[n % 3],
            "name": f"Speaker {n}",
            "organization": f"Organization {n % 90}",
            "sector": "government",
            "email": f"speaker{n}@example.org",
            "format_id": "panel-contribution",
            "title": f"Local action number {n} on connectivity",
            "summary": "How a small town closed its digital divide, step by step. " * 4,
            "state": states[n % 4],
            "created_at": now,
            "updated_at": now,
        }
        for n in range(REQUESTS)
    ]
    return Proposal, rows


async def seed(database_url: str) -> bool:
    """Subscribers and requests; False when there is no request table to fill."""
    await create_schema(database_url)
    engine = create_engine(database_url)
    now = utcnow()
    proposals = proposal_rows(now)
    async with engine.begin() as connection:
        users = [
            {"id": FIRST_ID + n, "telegram_language": "en", "first_seen": now, "last_seen": now}
            for n in range(SUBSCRIBERS)
        ]
        await connection.execute(insert(User), users)
        if proposals is not None:
            model, rows = proposals
            await connection.execute(insert(model), rows)
    await engine.dispose()
    return proposals is not None


def spawn_probe(database_url: str) -> tuple[float, dict[str, Any]]:
    """Seconds from spawning the probe to its first answer, and what it reported."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    spawned_at = time.time()
    finished = subprocess.run(
        [sys.executable, "-m", "bench.startup_probe", database_url],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if finished.returncode != 0:
        raise RuntimeError(f"startup probe failed:\n{finished.stderr[-2000:]}")
    report = json.loads(finished.stdout.strip().splitlines()[-1])
    return report["answered_at"] - spawned_at, report


async def run(quick: bool = False) -> Section:
    section = Section("Memory and start-up")
    runs = 2 if quick else 5
    with tempfile.TemporaryDirectory(prefix="focusbot-bench-") as tmp:
        url = sqlite_url(Path(tmp))
        with_requests = await seed(url)
        spawn_probe(url)  # warms the disk cache and writes the .pyc files
        results = [spawn_probe(url) for _ in range(runs)]
    seconds = statistics.median(s for s, _ in results)
    reports = [r for _, r in results]
    peak_mb = max(r["memory_after_answer"]["VmHWM_kb"] for r in reports) / 1024
    audience_mb = max(r["memory_after_audience"]["VmHWM_kb"] for r in reports) / 1024
    answered = all(r["answered"] for r in reports)
    data = f"{SUBSCRIBERS:,} subscribers" + (
        f" and {REQUESTS:,} stored requests" if with_requests else " (no request table yet)"
    )
    section.add(
        "peak RSS after the first answer",
        f"{peak_mb:.0f} MB",
        f"< {TARGET_MB} MB",
        peak_mb < TARGET_MB,
    )
    section.add(
        "start to first answer (median)",
        f"{seconds:.2f} s",
        f"< {TARGET_SECONDS:g} s",
        seconds < TARGET_SECONDS and answered,
    )
    first = reports[0]
    phases = (
        f"imports {first['imported'] - first['module_started']:.2f} s, "
        f"build + initialize (content, index, schema check) "
        f"{first['initialized'] - first['imported']:.2f} s, "
        f"first answer {first['answered_at'] - first['initialized']:.3f} s"
    )
    section.details += [
        f"Database: SQLite with {data}. {runs} fresh processes after one warm-up; the first "
        f"answer was {'right' if answered else 'WRONG or missing'} in each. "
        f"Start to first answer: {', '.join(f'{s:.2f}' for s, _ in results)} s.",
        "",
        f"Inside one probe: {phases}; the interpreter's own start-up is the rest.",
        "",
        f"Peak RSS after also counting the broadcast audience ({first['audience']} people): "
        f"{audience_mb:.0f} MB.",
    ]
    return section
