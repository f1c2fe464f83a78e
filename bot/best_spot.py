"""Best spot: which sessions open to contributions fit a speaking request best.

Both sides go through the answer engine's normalization (`default_lexicon().tokens()`), so a
Spanish or Catalan summary meets the English words of the content. Each word of the request
is matched to the closest word of a session with rapidfuzz (typos and inflections still meet),
and weighted by how rare that word is across the sessions: "digital" or "local" appear almost
everywhere and say little, "broadband" or "interoperability" say a lot.

The topic decides, not the wording: a session's topics count most, then its title, then its
description (which is long and full of incidental words such as "services" or "people"); the
request's title counts more than its summary; and a request's everyday words are led to the
session topics they are about ("elderly" and "migrant" to inclusion, "fibre" and "5G" to
connectivity, "workshops" and "training" to skills) by THEMES below.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from functools import cache

from rapidfuzz import fuzz, process

from bot.content import Content, Session
from bot.textmatch import default_lexicon

WORD_CUTOFF = 86
MIN_WORD_LENGTH = 3
# How much a session word counts, by where the session has it.
TOPIC_WEIGHT = 3.0
TITLE_WEIGHT = 2.0
DESCRIPTION_WEIGHT = 1.0
# How much a request word counts, by where the request has it (a theme's words: THEME_WEIGHT).
REQUEST_TITLE_WEIGHT = 2.0
REQUEST_SUMMARY_WEIGHT = 1.0
# A theme's topic words share this weight per trigger word met (at most THEME_HITS of them):
# one mention of "elderly" says less than the title's own "skills".
THEME_WEIGHT = 1.0
THEME_HITS = 3
# Words of every session's framing ("expert panel", "side event organized by"): no topic.
FRAMING = frozenset(
    {"panel", "expert", "side", "event", "organized", "organizado", "organitzat", "session"}
)

# Everyday words of a request -> the topic words of the content they are about. Matching
# data (not shown to anyone); en / es / ca, written as people type them.
THEMES: dict[str, str] = {
    "divide inclusion": (
        "elderly older senior seniors pensioners aged retired mayores ancianos jubilados "
        "gent gran avis disability disabilities disabled accessible accessibility blind deaf "
        "vulnerable excluded exclusion poverty low-income income migrant migrants refugees "
        "women gender gap brecha bretxa offline unconnected homeless minorities roma "
        "discapacidad discapacitat vulnerables exclusión exclusió"
    ),
    "skills": (
        "skills training train teach teaching course courses workshop workshops literacy "
        "learn learning education school schools students bootcamp bootcamps coding "
        "upskilling reskilling library libraries mentoring tutoring classes formación "
        "formació capacitación talleres tallers cursos aprendan aprenguin competencias "
        "competències habilidades habilitats alfabetización alfabetització"
    ),
    "businesses": (
        "business businesses sme smes shop shops shopkeepers retailers retail commerce "
        "e-commerce entrepreneurs startups merchants market marketing tourism farmers "
        "empresas empreses comercio comerç comercios emprendedores pymes"
    ),
    "connectivity broadband": (
        "fibre fiber fibra optical óptica òptica gigabit 5g 4g wifi wi-fi broadband "
        "coverage cobertura antenna antennas satellite mobile móvil mòbil rural villages "
        "pueblos pobles mountain montaña muntanya network networks internet access backhaul "
        "telecom telecoms spectrum conectividad connectivitat connectar conectar"
    ),
    "interoperability standards": (
        "api apis interoperable interoperability standard standards platform platforms "
        "open-source opensource ngsi fiware data datasets dataset twin twins sensors iot "
        "dashboard integration interoperabilidad interoperabilitat estándares estàndards "
        "datos dades plataforma"
    ),
    "good practices": (
        "peer peers exchange exchanges transfer twinning regeneration "
        "neighbourhoods neighborhoods urbact integrated action plan plans cooperation "
        "ciudades ciutats intercambio intercanvi buenas bones prácticas pràctiques"
    ),
    "scaling replication": (
        "pilot pilots scale scaling scale-up upscale replicate replicated replication "
        "replicable roll-out rollout region-wide nationwide expand expansion grow growth "
        "piloto escalar replicar ampliar"
    ),
}


@dataclass(frozen=True)
class SessionWords:
    """One session's vocabulary: each word with how much it counts (topics most)."""

    session: Session
    weights: dict[str, float]

    @property
    def words(self) -> frozenset[str]:
        return frozenset(self.weights)


def _words(texts: list[str]) -> frozenset[str]:
    lexicon = default_lexicon()
    return frozenset(
        word
        for text in texts
        for word in lexicon.tokens(text)
        if len(word) >= MIN_WORD_LENGTH and word not in FRAMING
    )


def session_words(session: Session) -> SessionWords:
    weights: dict[str, float] = {}
    fields = (
        (session.description.all() if session.description else [], DESCRIPTION_WEIGHT),
        (session.title.all(), TITLE_WEIGHT),
        (list(session.topics), TOPIC_WEIGHT),
    )
    for texts, weight in fields:
        for word in _words(texts):
            weights[word] = max(weights.get(word, 0.0), weight)
    return SessionWords(session, weights)


@cache
def _themes() -> tuple[tuple[frozenset[str], frozenset[str]], ...]:
    """(trigger words, topic words) per theme, normalized like everything else."""
    return tuple((_words([triggers]), _words([topics])) for topics, triggers in THEMES.items())


def request_words(title: str, summary: str) -> dict[str, float]:
    """The request's words and how much each counts: title, summary, and the topic words
    of the themes it touches."""
    weights: dict[str, float] = {}
    for texts, weight in (([summary], REQUEST_SUMMARY_WEIGHT), ([title], REQUEST_TITLE_WEIGHT)):
        for word in _words(texts):
            weights[word] = max(weights.get(word, 0.0), weight)
    said = set(weights)
    for triggers, topics in _themes():
        hits = min(len(said & triggers), THEME_HITS)
        if hits and topics:
            theme_weight = THEME_WEIGHT * hits / len(topics)
            for word in topics:
                weights[word] = max(weights.get(word, 0.0), theme_weight)
    return weights


@dataclass(frozen=True)
class SpotIndex:
    """The open sessions' vocabularies and word rarities, built once per content load."""

    candidates: tuple[SessionWords, ...]
    rarity: dict[str, float]

    @classmethod
    def build(cls, content: Content) -> SpotIndex:
        candidates = tuple(session_words(s) for s in content.sessions if s.open_for_contributions)
        frequency = Counter(word for c in candidates for word in c.weights)
        rarity = {w: math.log(1 + len(candidates) / n) for w, n in frequency.items()}
        return cls(candidates, rarity)

    def rank(self, text: str, limit: int = 3) -> list[Session]:
        """The sessions open to contributions that fit `text` best, best first.

        `text` is the request's title, a line break, then its summary (the title alone
        also works).
        """
        if not self.candidates:
            return []
        title, _, summary = text.partition("\n")
        query = request_words(title, summary)
        scored = [(_score(query, c, self.rarity), c.session) for c in self.candidates]
        # Ties (and requests that match nothing) keep the programme's time order.
        scored.sort(key=lambda pair: (-pair[0], pair[1].start, pair[1].id))
        return [session for _, session in scored[:limit]]


def rank_sessions(content: Content, text: str, limit: int = 3) -> list[Session]:
    """The sessions open to contributions that fit `text` best, best first."""
    return SpotIndex.build(content).rank(text, limit)


def _score(query: dict[str, float], candidate: SessionWords, rarity: dict[str, float]) -> float:
    """Each session word the request meets counts once: its rarity, times where the session
    has it, times where the request has it."""
    met: dict[str, float] = {}
    for word, weight in query.items():
        found = process.extractOne(
            word, candidate.weights.keys(), scorer=fuzz.ratio, score_cutoff=WORD_CUTOFF
        )
        if found is not None:
            met[found[0]] = max(met.get(found[0], 0.0), weight)
    return sum(rarity[word] * candidate.weights[word] * weight for word, weight in met.items())
