"""Best spot follows the topic: ten realistic requests and the session each belongs to."""

from __future__ import annotations

import pytest

from bot.best_spot import SpotIndex
from bot.content.store import ContentStore
from tests.conftest import CONTENT_DIR

# (title, summary, the session that should come first)
REQUESTS = [
    (
        "Digital skills for elderly people",
        "Weekly workshops at the public library teach older people to use smartphones, video "
        "calls and online public services.",
        "panel-skills",
    ),
    (
        "Fibre to every farmhouse",
        "How our county council brought gigabit broadband and 5G coverage to remote rural "
        "villages through a public-private network.",
        "panel-fibre",
    ),
    (
        "Closing the gender gap in digital access",
        "Free devices and data vouchers for low-income families and migrant women, so that "
        "nobody in our town is left offline.",
        "panel-libraries",
    ),
    (
        "Open APIs for city data",
        "We adopted shared data models and open standards so our smart city platform can reuse "
        "services built by neighbouring municipalities.",
        "side-event-otn",
    ),
    (
        "Learning from peer cities",
        "Our network of ten small towns exchanged good practices on urban regeneration and "
        "turned them into integrated local action plans.",
        "side-event-civic",
    ),
    (
        "From pilot to region-wide programme",
        "A smart lighting pilot in one neighbourhood was replicated in 40 municipalities; we "
        "share how to scale up small initiatives.",
        "panel-next-towns",
    ),
    (
        "Coding bootcamps for local shopkeepers",
        "Training small businesses and retailers in e-commerce and digital marketing helped our "
        "high street thrive again.",
        "panel-skills",
    ),
    (
        "Ayuda con el móvil en la biblioteca del barrio",
        "Talleres semanales en la biblioteca para que las personas mayores aprendan a usar el "
        "móvil y los servicios públicos en línea.",
        "panel-libraries",  # the tests' own event: its library help desks
    ),
    (
        "Connectar els pobles de muntanya",
        "Com el consell comarcal ha portat fibra òptica i cobertura mòbil als municipis rurals "
        "de muntanya.",
        "panel-fibre",
    ),
    (
        "Accessible e-government for everyone",
        "Online public services and assisted help points designed so that people with "
        "disabilities and those without internet at home are not excluded.",
        "panel-libraries",
    ),
]


@pytest.fixture(scope="module")
def spots() -> SpotIndex:
    return SpotIndex.build(ContentStore(CONTENT_DIR).content)


@pytest.mark.parametrize(("title", "summary", "expected"), REQUESTS, ids=[r[0] for r in REQUESTS])
def test_the_topic_decides_the_first_suggestion(
    spots: SpotIndex, title: str, summary: str, expected: str
) -> None:
    ranked = [s.id for s in spots.rank(f"{title}\n{summary}")]
    assert ranked[0] == expected, ranked


def test_digital_skills_for_elderly_people_is_not_about_interoperability(
    spots: SpotIndex,
) -> None:
    ranked = [s.id for s in spots.rank("Digital skills for elderly people")]
    assert ranked[0] == "panel-skills"
    assert "side-event-otn" not in ranked[:2]
