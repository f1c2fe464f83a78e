"""The shipped content/ (the real event): it loads, check-content passes, and it is consistent
with what the bot needs. The only module (with the answer engine's measure,
tests/test_answers_real_questions.py) that reads content/; every other test runs on the tests'
own event in tests/data/content/, so editing the event breaks no test but these."""

from __future__ import annotations

import re
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


def first_person(text: str) -> list[str]:
    words = r"\b(our|we|us|nuestr[oa]s?|nosotros|nos|nostres?|nosaltres|ens)\b"
    return re.findall(words, text, flags=re.IGNORECASE)


def test_partner_texts_speak_in_the_bots_voice() -> None:
    content = load_content(CONTENT_DIR)
    for org in content.organizations:
        for text in (org.summary, org.description):
            for lang in ("en", "es", "ca"):
                if text is not None:
                    assert first_person(text.get(lang)) == [], (org.id, lang, text.get(lang))
    smartcat = content.organization("government-of-catalonia")
    assert smartcat is not None and smartcat.description is not None
    english = smartcat.description.get("en")
    assert "and integrator." not in english  # the source's broken sentence
    assert "promote a smarter, more sustainable and more inclusive country" in english
    assert "local and supralocal initiatives, supports companies and deploys" in english


def test_side_events_are_hosted_by_the_organizers_the_source_names() -> None:
    content = load_content(CONTENT_DIR)
    seed = SEED.read_text(encoding="utf-8")
    for session in content.sessions:
        if session.kind.value != "side_event":
            assert session.host is None, session.id  # the source names no host for a panel
            continue
        host = content.organization(session.host or "")
        assert host is not None and host.role.value == "side_event_organizer"
        assert host.name.split(" – ")[0].split()[0] in seed


@pytest.mark.parametrize(
    ("org_id", "card_facts", "more_facts"),
    [
        ("huawei", ["1987", "207,000", "170 countries", "3 billion"], ["open innovation"]),
        ("european-commission", ["Brussels", "139 Delegations"], ["Commission Work Program"]),
        ("government-of-catalonia", ["Smart Country"], ["supralocal"]),
        ("diputacio-barcelona", ["311 municipalities"], ["Smart Region", "(SDGs)"]),
        ("amb", ["636 km²", "36 municipalities", "3.2 million", "half of the GDP"], ["2011"]),
        ("oasc", ["non-profit"], ["Minimal Interoperability Mechanisms"]),
        ("urbact-spain", ["15 years"], ["European Regional Development Fund", "28 Member"]),
    ],
)
def test_partner_figures_are_the_sources(
    org_id: str, card_facts: list[str], more_facts: list[str]
) -> None:
    """A partner's card (its summary) and "More about" (its description) give the figures
    exactly as the source page does."""
    seed = SEED.read_text(encoding="utf-8")
    org = load_content(CONTENT_DIR).organization(org_id)
    assert org is not None and org.description is not None
    card = (org.summary or org.description).get("en")
    for fact in card_facts:
        assert fact in card and fact in seed, fact
    for fact in more_facts:
        assert fact in org.description.get("en") and fact in seed, fact


def test_the_shipped_content_has_no_fixed_answer_on_the_date_or_venue() -> None:
    content = load_content(CONTENT_DIR)
    for ident, field in (("event-when", "date"), ("event-where", "venue")):
        faq = content.faq(ident)
        assert faq is not None and faq.answer_from is not None
        assert faq.answer_from.value == field
