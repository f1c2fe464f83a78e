"""The shipped content/ (the real event): it loads, check-content passes, and it is consistent
with what the bot needs. The only module (with the answer engine's measure,
tests/test_answers_real_questions.py) that reads content/; every other test runs on the tests'
own event in tests/data/content/, so editing the event breaks no test but these."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.content import load_content
from bot.i18n import LANGUAGES
from main import main
from tests.conftest import SHIPPED_CONTENT_DIR as CONTENT_DIR

# The event's source page, shipped with the tests so they run wherever the repository is cloned.
SEED = Path(__file__).resolve().parent / "data" / "focus-sessions-1.txt"


def test_check_content_passes_on_the_shipped_content(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONTENT_DIR", str(CONTENT_DIR))
    assert main(["check-content"]) == 0
    assert "Content is valid" in capsys.readouterr().out


def test_every_faq_asks_and_answers_in_every_language() -> None:
    content = load_content(CONTENT_DIR)
    for faq in content.faqs:
        for lang in LANGUAGES:
            assert lang in faq.question.root, (faq.id, lang)
            if faq.answer is not None:
                assert lang in faq.answer.root, (faq.id, lang)


def test_the_shipped_sentence_vectors_cover_the_content() -> None:
    """Start-up embeds only what bot/retrieval_vectors.npz lacks (about 12 ms a sentence): after
    editing content/, run `python -m bot.retrieval` to rewrite the file."""
    from bot.retrieval import missing_vectors

    assert missing_vectors(load_content(CONTENT_DIR)) == []


def test_shipped_content_is_valid_and_complete() -> None:
    content = load_content(CONTENT_DIR)
    assert content.event.date is None  # the source gives no date: nothing invented
    assert len(content.sessions) >= 8
    assert [s.start for s in content.sessions] == sorted(s.start for s in content.sessions)
    assert all(not s.speakers for s in content.sessions)  # no invented people
    names = {o.name for o in content.organizations}
    for expected in ("Huawei", "European Commission", "AMB", "ESADE"):
        assert any(expected.lower() in name.lower() for name in names), expected
    assert content.proposal_formats


@pytest.mark.parametrize(
    "fact",
    [
        "1987",
        "207,000",
        "170 countries",
        "Brussels",
        "139 Delegations",
        "Smart Country",
        "311 municipalities",
        "Smart Region",
        "636 km²",
        "36 municipalities",
        "3.2 million",
        "Minimal Interoperability Mechanisms",
        "15 years",
        "European Regional Development Fund",
        "L’Hospitalet de Llobregat City Council",
    ],
)
def test_every_seed_fact_is_in_the_content(fact: str) -> None:
    """The facts named in the issue come from the seed page and are reachable in content."""
    assert fact in SEED.read_text(encoding="utf-8")
    corpus = " ".join(p.read_text(encoding="utf-8") for p in CONTENT_DIR.glob("*.yaml"))
    normalized = corpus.replace("'", "’").lower()
    assert fact.replace("'", "’").lower() in normalized


