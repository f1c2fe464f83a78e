"""Best spot: which sessions open to contributions fit a speaking request best.

Both sides go through the answer engine's normalization (`default_lexicon().tokens()`), so a
Spanish or Catalan summary meets the English words of the content. Each word of the request
is matched to the closest word of a session with rapidfuzz (typos and inflections still meet),
and weighted by how rare that word is across the sessions: "digital" or "local" appear almost
everywhere and say little, "broadband" or "interoperability" say a lot. Topics count double.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.content import Content, Session
from bot.textmatch import default_lexicon

WORD_CUTOFF = 86
TOPIC_WEIGHT = 2.0
MIN_WORD_LENGTH = 3


@dataclass(frozen=True)
class SessionWords:
    """One session's vocabulary: every word, and the words of its topics."""

    session: Session
    words: frozenset[str]
    topic_words: frozenset[str]


def _words(texts: list[str]) -> frozenset[str]:
    lexicon = default_lexicon()
    return frozenset(
        word for text in texts for word in lexicon.tokens(text) if len(word) >= MIN_WORD_LENGTH
    )


def session_words(session: Session) -> SessionWords:
    texts = session.title.all() + (session.description.all() if session.description else [])
    topic_words = _words(session.topics)
    return SessionWords(session, _words(texts) | topic_words, topic_words)


@dataclass(frozen=True)
class SpotIndex:
    """The open sessions' vocabularies and word rarities, built once per content load."""

    candidates: tuple[SessionWords, ...]
    rarity: dict[str, float]

    @classmethod
    def build(cls, content: Content) -> SpotIndex:
        candidates = tuple(session_words(s) for s in content.sessions if s.open_for_contributions)
        frequency = Counter(word for c in candidates for word in c.words)
        rarity = {w: math.log(1 + len(candidates) / n) for w, n in frequency.items()}
        return cls(candidates, rarity)

    def rank(self, text: str, limit: int = 3) -> list[Session]:
        """The sessions open to contributions that fit `text` best, best first."""
        if not self.candidates:
            return []
        query = _words([text])
        scored = [(_score(query, c, self.rarity), c.session) for c in self.candidates]
        # Ties (and requests that match nothing) keep the programme's time order.
        scored.sort(key=lambda pair: (-pair[0], pair[1].start, pair[1].id))
        return [session for _, session in scored[:limit]]


def rank_sessions(content: Content, text: str, limit: int = 3) -> list[Session]:
    """The sessions open to contributions that fit `text` best, best first."""
    return SpotIndex.build(content).rank(text, limit)


def _score(query: frozenset[str], candidate: SessionWords, rarity: dict[str, float]) -> float:
    """Sum of the rarity of the session words the request's words meet."""
    met: set[str] = set()
    for word in query:
        found = process.extractOne(
            word, candidate.words, scorer=fuzz.ratio, score_cutoff=WORD_CUTOFF
        )
        if found is not None:
            met.add(found[0])
    return sum(
        rarity[word] * (TOPIC_WEIGHT if word in candidate.topic_words else 1.0) for word in met
    )
