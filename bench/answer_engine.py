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
    """Measuring hook: empty the index's per-word cache, whatever form it takes."""
    cache = getattr(index, "_token_cache", None)
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
