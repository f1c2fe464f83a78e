"""`python -m bench`: run the benchmarks, print one markdown table, keep it in bench/results/.

python -m bench                      # all of them (about 5 minutes on 2 cores)
python -m bench --quick              # a short run of each (about 2 minutes)
python -m bench --postgres URL       # also on PostgreSQL (default $BENCH_POSTGRES_URL), emptied
python -m bench --only updates,answers
python -m bench --full               # the broadcast to all 10,000 (adds about 6 minutes)
python -m bench --write-docs         # also put the table in docs/BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import re
import sys
import time
from collections.abc import Callable

from bench import answer_engine, broadcast, live_votes, memory, reminders, updates, workers
from bench.harness import POSTGRES_ENV, RESULTS_DIR, ROOT, quiet_logging
from bench.report import Section, load, machine, markdown

DOCS = ROOT / "docs" / "BENCHMARKS.md"
START_MARK = "<!-- results:start (python -m bench --write-docs) -->"
END_MARK = "<!-- results:end -->"
NAMES = ("updates", "workers", "answers", "broadcast", "reminders", "memory", "live")


def runners(args: argparse.Namespace) -> dict[str, Callable[[], Section]]:
    quick = args.quick
    return {
        "updates": lambda: asyncio.run(updates.run(quick)),
        "workers": lambda: asyncio.run(workers.run(quick)),
        "answers": lambda: answer_engine.run(quick),
        "broadcast": lambda: asyncio.run(broadcast.run(quick, full=args.full)),
        "reminders": lambda: asyncio.run(reminders.run(quick)),
        "memory": lambda: asyncio.run(memory.run(quick)),
        "live": lambda: asyncio.run(live_votes.run(quick)),
    }


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", default=",".join(NAMES), help=f"comma-separated subset of {', '.join(NAMES)}"
    )
    parser.add_argument("--quick", action="store_true", help="a short run of each benchmark")
    parser.add_argument(
        "--full", action="store_true", help="broadcast to 10,000 subscribers (about 7 minutes)"
    )
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="also measure on this PostgreSQL database, which is emptied "
        "(default: $BENCH_POSTGRES_URL; without it, SQLite only and no worker benchmark)",
    )
    parser.add_argument(
        "--write-docs", action="store_true", help=f"also write the table to {DOCS.name}"
    )
    args = parser.parse_args(argv)
    if args.postgres:
        os.environ[POSTGRES_ENV] = args.postgres
    args.only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(args.only) - set(NAMES))
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}: choose from {', '.join(NAMES)}")
    return args


def header(args: argparse.Namespace) -> str:
    mode = "quick" if args.quick else "full broadcast" if args.full else "default"
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"Results of `python -m bench` ({mode} run, {when}) on {machine()}; "
        f"load average at the start {load()}."
    )


def write_docs(table: str) -> None:
    """Replace the results between the markers, keeping the hand-written parts around them."""
    block = f"{START_MARK}\n{table}{END_MARK}"
    if DOCS.exists():
        text = DOCS.read_text(encoding="utf-8")
        pattern = re.compile(re.escape(START_MARK) + ".*?" + re.escape(END_MARK), re.DOTALL)
        if pattern.search(text):
            DOCS.write_text(pattern.sub(lambda _: block, text), encoding="utf-8")
            return
        text = text.rstrip() + "\n\n## Latest results\n\n" + block + "\n"
    else:
        text = f"# Benchmarks\n\n## Latest results\n\n{block}\n"
    DOCS.parent.mkdir(parents=True, exist_ok=True)
    DOCS.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    quiet_logging()
    run = runners(args)
    sections: list[Section] = []
    started = time.perf_counter()
    heading = header(args)
    for name in args.only:
        print(f"running {name}...", file=sys.stderr, flush=True)
        sections.append(run[name]())
    table = markdown(sections, heading)
    rows = [row for section in sections for row in section.rows if row.passed is not None]
    met = sum(1 for row in rows if row.passed)
    summary = (
        f"{met} of {len(rows)} targets met in {time.perf_counter() - started:.0f} s "
        f"(load average at the end {load()})."
    )
    print(table)
    print(summary)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "latest.md").write_text(table + "\n" + summary + "\n", encoding="utf-8")
    if args.write_docs:
        write_docs(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
