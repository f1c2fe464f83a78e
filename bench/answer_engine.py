"""Benchmark 2: the answer engine (KnowledgeIndex) at the shipped size, 10x and 100x.

Per question, "cold" means the index's per-word cache is emptied first, so every word of the
question is looked up in the vocabulary again (the cost of a question nobody asked before);
"warm" is the same question set asked again (words seen before). Accuracy is measured on the
shipped content only, as the tests define it: the best answer is one of the expected ones, and
a question that must match nothing gets no confident answer.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass
from typing import Any

import yaml

from bench.harness import CONTENT_DIR, QUESTIONS_PATH
from bench.report import Section, percentile
from bench.synthetic import scaled
from bot.answers import KnowledgeIndex
from bot.content import Content, load_content

TARGET_US_AT_10X = 1000.0
ACCURACY_TARGET = 0.90  # the same threshold as tests/test_ask.py


@dataclass(frozen=True)
class ScaleResult:
    factor: int
    entries: int
    phrases: int
    vocabulary: int
    build_seconds: float
    cold_us: list[float]
    warm_us: list[float]

    @property
    def cold_mean(self) -> float:
        return sum(self.cold_us) / len(self.cold_us)

    @property
    def warm_mean(self) -> float:
        return sum(self.warm_us) / len(self.warm_us)


def load_question_set() -> list[dict[str, Any]]:
    return list(yaml.safe_load(QUESTIONS_PATH.read_text(encoding="utf-8")))


def forget_seen_words(index: KnowledgeIndex) -> None:
    """Measuring hook: empty the index's per-word caches and the cached question vectors."""
    from bot import retrieval

    retrieval.encode_query.cache_clear()
    for owner in (index, getattr(getattr(index, "retriever", None), "lexical", None)):
        for name in ("_token_cache", "_fix_cache"):
            cache = getattr(owner, name, None)
            if isinstance(cache, dict):
                cache.clear()
    for name in ("_similar", "similar"):
        method = getattr(index, name, None)
        if hasattr(method, "cache_clear"):
            method.cache_clear()


def time_questions(index: KnowledgeIndex, questions: list[str], cold: bool) -> list[float]:
    """Microseconds per call of `index.answer`, one entry per question."""
    out: list[float] = []
    clock = time.perf_counter
    gc.collect()
    for question in questions:
        if cold:
            forget_seen_words(index)
        before = clock()
        index.answer(question)
        out.append((clock() - before) * 1e6)
    return out


def measure(content: Content, factor: int, questions: list[str], rounds: int) -> ScaleResult:
    before = time.perf_counter()
    index = KnowledgeIndex.from_content(content)
    build = time.perf_counter() - before
    cold: list[float] = []
    warm: list[float] = []
    for _ in range(rounds):
        cold += time_questions(index, questions, cold=True)
    time_questions(index, questions, cold=False)
    for _ in range(rounds):
        warm += time_questions(index, questions, cold=False)
    return ScaleResult(
        factor, len(index.keys), len(index.phrases), len(index.vocabulary), build, cold, warm
    )


def accuracy(index: KnowledgeIndex, items: list[dict[str, Any]]) -> tuple[float, float, list[str]]:
    """(answered right outright, off-topic left unanswered, the misses) on the question set."""
    answerable = [q for q in items if q["expect"]]
    off_topic = [q for q in items if not q["expect"]]
    misses: list[str] = []
    right = 0
    for item in answerable:
        best = index.answer(item["q"]).best
        if best is not None and best.key in item["expect"]:
            right += 1
        else:
            misses.append(f"`{item['q']}` -> {best.key if best else 'no answer'}")
    quiet = 0
    for item in off_topic:
        best = index.answer(item["q"]).best
        if best is None:
            quiet += 1
        else:
            misses.append(f"`{item['q']}` (off-topic) -> {best.key}")
    return right / len(answerable), quiet / max(len(off_topic), 1), misses


@dataclass(frozen=True)
class Figures:
    """The question set as people see it: answered outright, within one tap, wrongly."""

    answerable: int
    direct: int
    one_tap: int
    off_topic: int
    confident_wrong: list[str]

    @property
    def direct_share(self) -> float:
        return self.direct / max(self.answerable, 1)

    @property
    def one_tap_share(self) -> float:
        return self.one_tap / max(self.answerable, 1)


def figures(index: KnowledgeIndex, items: list[dict[str, Any]]) -> Figures:
    """Direct: the reply is one of `expect` (and holds every key of `also`). One tap: that,
    or a "did you mean" button is one of `expect`. Confident wrong: a reply to a question that
    is not one of `expect` (any reply at all to a question that must match nothing)."""
    direct = one_tap = 0
    wrong: list[str] = []
    answerable = [q for q in items if q["expect"]]
    for item in items:
        result = index.answer(str(item["q"]))
        expect = set(item["expect"])
        shown = set(result.keys)
        if result.best is not None and not shown & expect:
            wrong.append(f"`{item['q']}` -> {result.best.key}")
            continue
        if not expect:
            continue
        if shown & expect and set(item.get("also") or ()) <= shown:
            direct += 1
            one_tap += 1
        elif result.best is None and {m.key for m in result.suggestions} & expect:
            one_tap += 1
    return Figures(len(answerable), direct, one_tap, len(items) - len(answerable), wrong)


def growth_table(results: list[ScaleResult]) -> list[str]:
    lines = [
        "| Content | Entries | Phrases | Words | Index build | Cold mean | Cold p99 | Warm mean"
        " | Questions/s (cold) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.factor}x | {r.entries:,} | {r.phrases:,} | {r.vocabulary:,} | "
            f"{r.build_seconds * 1000:,.0f} ms | {r.cold_mean:,.0f} µs | "
            f"{percentile(r.cold_us, 0.99):,.0f} µs | {r.warm_mean:,.0f} µs | "
            f"{1e6 / r.cold_mean:,.0f} |"
        )
    return lines


def run(quick: bool = False) -> Section:
    section = Section("Answer engine")
    shipped = load_content(CONTENT_DIR)
    items = load_question_set()
    questions = [str(q["q"]) for q in items]
    KnowledgeIndex.from_content(shipped)  # loads the lexicon once, outside the timings
    rounds = 1 if quick else 3
    results = [
        measure(scaled(shipped, factor), factor, questions, rounds) for factor in (1, 10, 100)
    ]
    right, quiet, misses = accuracy(KnowledgeIndex.from_content(shipped), items)
    by_factor = {r.factor: r for r in results}
    for r in results:
        target = f"< {TARGET_US_AT_10X:,.0f} µs" if r.factor == 10 else ""
        passed = r.cold_mean < TARGET_US_AT_10X if r.factor == 10 else None
        section.add(
            f"{r.factor}x content: mean / p99 per question (cold)",
            f"{r.cold_mean:,.0f} / {percentile(r.cold_us, 0.99):,.0f} µs",
            target,
            passed,
        )
    section.add(
        "1x content: questions/s (cold / warm)",
        f"{1e6 / by_factor[1].cold_mean:,.0f} / {1e6 / by_factor[1].warm_mean:,.0f}",
    )
    section.add("100x content: index build", f"{by_factor[100].build_seconds * 1000:,.0f} ms")
    section.add(
        "accuracy: answered right",
        f"{right:.1%}",
        f">= {ACCURACY_TARGET:.0%}",
        right >= ACCURACY_TARGET,
    )
    section.add("accuracy: off-topic unanswered", f"{quiet:.1%}", "100%", quiet == 1.0)
    seen = figures(KnowledgeIndex.from_content(shipped), items)
    section.add(
        "question set: answered directly / within one tap",
        f"{seen.direct_share:.1%} / {seen.one_tap_share:.1%}",
        ">= 95% / 100%",
        seen.direct_share >= 0.95,
    )
    section.add(
        "question set: confident wrong answers",
        str(len(seen.confident_wrong)),
        "0",
        not seen.confident_wrong,
    )
    section.details += [
        f"{len(questions)} questions from tests/data/questions.yaml, {rounds} round(s) each; "
        "synthetic sessions, organizations and FAQ entries added (bench/synthetic.py).",
        "",
        *growth_table(results),
        "",
        f"Cost growth 1x -> 10x -> 100x (cold mean): "
        f"x{by_factor[10].cold_mean / by_factor[1].cold_mean:.1f}, "
        f"x{by_factor[100].cold_mean / by_factor[10].cold_mean:.1f}.",
    ]
    if misses:
        section.details += ["", "Missed on the shipped content:", ""]
        section.details += [f"- {miss}" for miss in misses]
    return section


# ---------------------------------------------------------------- question sets, old vs new
# `python -m bench.answer_engine [SET.yaml ...] [--old REF] [--no-scale]`: per question set,
# answered directly / within one tap / no answer / confident wrong, and the time per question
# (mean, p99) on the shipped content and at 10x content, for this engine and for the engine at
# git REF (default: main) side by side; then start-up to the first answer and RSS.

DEFAULT_SETS = ("questions.yaml", "trial_questions.yaml", "dev_questions.yaml")


@dataclass(frozen=True)
class SetFigures:
    name: str
    total: int
    answerable: int
    direct: int
    one_tap: int
    no_answer: int
    wrong: list[str]
    times_ms: list[float]


def set_figures(index: Any, name: str, items: list[dict[str, Any]]) -> SetFigures:
    """Like `figures`, plus how many got no answer at all and the time of each question."""
    clock = time.perf_counter
    times: list[float] = []
    direct = one_tap = none = 0
    wrong: list[str] = []
    for item in items:
        forget_seen_words(index)
        before = clock()
        result = index.answer(str(item["q"]))
        times.append((clock() - before) * 1000)
        expect = set(item["expect"])
        shown = set(result.keys)
        if result.best is None and not result.suggestions:
            none += expect != set()
        if result.best is not None and not shown & expect:
            wrong.append(f"`{item['q']}` -> {result.best.key}")
            continue
        if not expect:
            continue
        if shown & expect and set(item.get("also") or ()) <= shown:
            direct += 1
            one_tap += 1
        elif result.best is None and {m.key for m in result.suggestions} & expect:
            one_tap += 1
    answerable = sum(1 for item in items if item["expect"])
    return SetFigures(name, len(items), answerable, direct, one_tap, none, wrong, times)


def engine_at(ref: str) -> Any:
    """The KnowledgeIndex class as it was at git `ref` (its answers.py, textmatch.py and
    lexicon.yaml, imported as a package of their own), for a side-by-side measurement."""
    import importlib
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    root = CONTENT_DIR.parent
    folder = Path(tempfile.mkdtemp(prefix="engine-at-ref-"))
    package = folder / "engine_at_ref"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name in ("answers.py", "textmatch.py", "lexicon.yaml"):
        text = subprocess.run(
            ["git", "show", f"{ref}:bot/{name}"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        text = text.replace("from bot.textmatch import", "from engine_at_ref.textmatch import")
        (package / name).write_text(text, encoding="utf-8")
    sys.path.insert(0, str(folder))
    return importlib.import_module("engine_at_ref.answers").KnowledgeIndex


def _stand_in_vectors(factor: int) -> Any:
    """Vectors for the synthetic sentences of scaled content: the time per question depends on
    how many sentences there are, not on their values, and embedding thousands of invented
    sentences would only make the benchmark slow. Accuracy is measured on shipped content."""
    import hashlib

    import numpy as np

    from bot import retrieval

    real = retrieval.encode_passages

    def encode(texts: list[str]) -> Any:
        known = retrieval._vector_cache().vectors
        rows = []
        for text in texts:
            digest = retrieval._VectorCache.digest(text)
            if digest in known:
                rows.append(np.asarray(known[digest], dtype=np.float32))
                continue
            seed = int(hashlib.sha1(text.encode()).hexdigest()[:8], 16)
            row = np.random.default_rng(seed).standard_normal(384).astype(np.float32)
            rows.append(row / np.linalg.norm(row))
        return np.stack(rows) if rows else real(texts)

    return encode


def time_scaled(engine: Any, factor: int, questions: list[str]) -> list[float]:
    from unittest import mock

    from bot import retrieval

    content = scaled(load_content(CONTENT_DIR), factor)
    with mock.patch.object(retrieval, "encode_passages", _stand_in_vectors(factor)):
        index = engine.from_content(content)
    clock = time.perf_counter
    out = []
    for question in questions:
        forget_seen_words(index)
        before = clock()
        index.answer(question)
        out.append((clock() - before) * 1000)
    return out


def startup_probe(ref: str | None) -> tuple[float, float]:
    """Seconds from a fresh interpreter to the first answer, and its peak RSS in MB."""
    import subprocess
    import sys

    engine = (
        # The old engine's own files only (importing this module would load the new one).
        "import subprocess, sys, tempfile, importlib, pathlib\n"
        "d = pathlib.Path(tempfile.mkdtemp()); p = d / 'engine_at_ref'; p.mkdir()\n"
        "(p / '__init__.py').write_text('')\n"
        "for n in ('answers.py', 'textmatch.py', 'lexicon.yaml'):\n"
        f"    src = subprocess.run(['git', 'show', '{ref}:bot/' + n], capture_output=True,"
        " text=True, check=True).stdout\n"
        "    (p / n).write_text(src.replace('from bot.textmatch import',"
        " 'from engine_at_ref.textmatch import'))\n"
        "sys.path.insert(0, str(d)); KI = importlib.import_module('engine_at_ref.answers')"
        ".KnowledgeIndex"
        if ref
        else "from bot.answers import KnowledgeIndex as KI"
    )
    code = (
        "import time, resource, pathlib; t = time.perf_counter()\n"
        f"{engine}\n"
        "from bot.content import load_content\n"
        "KI.from_content(load_content(pathlib.Path('content'))).answer('who funds urbact')\n"
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=CONTENT_DIR.parent,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return float(out[0]), float(out[1]) / 1024


def compare(paths: list[str], old_ref: str | None, scale: bool) -> str:
    from pathlib import Path

    sets = [
        (Path(p).stem, list(yaml.safe_load(Path(p).read_text(encoding="utf-8")))) for p in paths
    ]
    engines: list[tuple[str, Any]] = [("new", KnowledgeIndex)]
    if old_ref:
        engines.append((f"old ({old_ref})", engine_at(old_ref)))
    shipped = load_content(CONTENT_DIR)
    lines = [
        "| Set | Engine | Questions | Direct | One tap | No answer | Confident wrong "
        "| Mean ms | p99 ms |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    wrongs: list[str] = []
    for label, engine in engines:
        index = engine.from_content(shipped)
        index.answer("warm up")
        for name, items in sets:
            f = set_figures(index, name, items)
            n = max(f.answerable, 1)
            lines.append(
                f"| {name} | {label} | {f.total} ({f.answerable} answerable) "
                f"| {f.direct / n:.1%} ({f.direct}) | {f.one_tap / n:.1%} ({f.one_tap}) "
                f"| {f.no_answer} | {len(f.wrong)} "
                f"| {sum(f.times_ms) / len(f.times_ms):.1f} | {percentile(f.times_ms, 0.99):.1f} |"
            )
            wrongs += [f"- {name}, {label}: {w}" for w in f.wrong]
    lines.append("")
    if scale:
        questions = [str(q["q"]) for _, items in sets for q in items]
        for label, engine in engines:
            ms = time_scaled(engine, 10, questions)
            lines.append(
                f"10x content, {label}: mean {sum(ms) / len(ms):.1f} ms, "
                f"p99 {percentile(ms, 0.99):.1f} ms per question ({len(ms)} questions)"
            )
    for label, ref in [("new", None), *([(f"old ({old_ref})", old_ref)] if old_ref else [])]:
        seconds, rss = startup_probe(ref)
        lines.append(f"start-up to first answer, {label}: {seconds:.2f} s, peak RSS {rss:.0f} MB")
    if wrongs:
        lines += ["", "Confident wrong answers:", *wrongs]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import argparse

    from bench.harness import ROOT

    parser = argparse.ArgumentParser(prog="python -m bench.answer_engine")
    parser.add_argument("sets", nargs="*", help="question-set YAML files (q / expect [/ also])")
    parser.add_argument("--old", default="main", help="git ref of the engine to compare with")
    parser.add_argument("--no-old", action="store_true", help="measure this engine only")
    parser.add_argument("--no-scale", action="store_true", help="skip the 10x content timing")
    args = parser.parse_args(argv)
    paths = args.sets or [str(ROOT / "tests" / "data" / name) for name in DEFAULT_SETS]
    print(compare(paths, None if args.no_old else args.old, not args.no_scale))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
