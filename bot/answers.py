"""KnowledgeIndex: built once per content load; a question -> ranked answers.

Each searchable kind (organization, session, FAQ entry, menu destination) says which phrases
describe it (`search_phrases`). The index breaks every phrase into normalized tokens and, for a
question, matches each question word to the vocabulary with rapidfuzz (typos, partial names),
then scores every phrase by how much of the question it explains and how much of the phrase
the question covers, both weighted by how rare each word is. A phrase that explains half of
the question scores low: a confident wrong answer is worse than none.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from rapidfuzz import fuzz, process

from bot.content import Content, Faq, Organization, Session, SessionKind
from bot.retrieval import Hits, Retriever, dense_enabled, passages
from bot.textmatch import Lexicon, default_lexicon, fold

ANSWER_THRESHOLD = 0.74
SUGGEST_THRESHOLD = 0.52
CLEAR_MARGIN = 0.07
PERFECT_SCORE = 0.99
PERFECT_MARGIN = 0.03
MAX_SUGGESTIONS = 3
QUESTION_SHARE = 0.75  # the rest of a phrase's score is how much of the phrase was asked about
LIGHT_WEIGHT = 0.3  # "when", "who", "how many": they say what is asked, not about what
# When entries tie, the broader card wins: "SmartCAT" shows the organization, not one FAQ.
KIND_PRIORITY = {"org": 0, "nav": 1, "faq": 2, "session": 3}
# Starting the speaking-slot request is an action, not information: on a tie the answer wins
# ("speakrs" is about who speaks, not a wish to speak).
PROPOSE_KEY = "nav:propose"
ACTION_KEYS = frozenset({PROPOSE_KEY})
# The content that says "ask to speak": what a wish to speak is recognized by (dense retrieval).
WISH_KEYS = (PROPOSE_KEY, "faq:propose-slot")
ACTION_PRIORITY = 2.5
# "Did you mean" with one candidate far ahead of the rest: answer it.
LONE_CANDIDATE_SCORE = 0.6
LONE_CANDIDATE_GAP = 0.12
SECOND_READING_GAP = 0.08
MAX_FACTS = 3  # answers shown together for a message that asks several things
LONG_MESSAGE = 120  # characters: beyond this, the retrieval reads the question sentences only
# The content retrieval (bot/retrieval.py), calibrated on tests/data/dev_questions.yaml:
CONFIRM_DEPTH = 3  # the phrase matcher's answer stands if dense retrieval ranks it this high,
PHRASE_SURE = 0.85  # or if it matched a phrase this well,
PHRASE_FAIR = 0.72  # or this well and BM25 ranks it first
DENSE_ANSWER = 0.87  # cosine of the best sentence, to answer from the content alone
DENSE_GAP = 0.003  # ... ahead of the next entry by this much
LEXICAL_TIE = 0.95  # BM25 agrees: the entry scores within 5 % of its best,
LEXICAL_RELATED = 0.8  # or within 20 % of the organization it is about, ranked first
UNKNOWN_MIN_LENGTH = 4  # a longer word the content does not know ("google") ...
UNKNOWN_SHARE = 0.15  # ... in more than this share of the words: no answer from content alone
LEXICAL_CLEAR = 1.5  # ... unless it names the organization the entry is about, and BM25
# puts the entry first, this far ahead of the next
DENSE_SUGGEST = 0.85  # "did you mean" from the content
WISH_SCORE = 0.89  # a message closest to the speaking-slot request, this close: lead to it
WISH_LONG_WORDS = 15  # a long message: its wish to speak may be one sentence among others ...
WISH_SCORE_LONG = 0.85  # ... so this close ...
WISH_GAP_LONG = 0.005  # ... and within this of the message's closest answer is enough
LEXICAL_SUGGEST = 5.0

# A message is cut into sentences, and a sentence into clauses at commas and at "and" / "y" /
# "i" followed by a question word: "how many employees does Huawei have and when was it
# founded?". A conjunction inside a name ("Open and Agile Smart Cities") does not cut.
_SENTENCE = re.compile(r"([^?!.;:\n¿¡]+)([?!.;:\n]*)")
_QUESTION_WORDS = (
    "what|when|where|who|whom|whose|how|which|why|is|are|does|do|did|can|could|will|would|"
    "que|qué|cuando|cuándo|donde|dónde|quien|quién|quienes|quiénes|como|cómo|cuanto|cuánto|"
    "cuantos|cuántos|cuantas|cuántas|cual|cuál|cuales|cuáles|hay|"
    "què|quan|on|qui|com|quant|quants|quantes|quin|quina|quins|quines|hi|"
    "if|whether|si"
)
_CLAUSE = re.compile(
    rf",|\b(?:and|also|plus|y|e|i|o|or)\s+(?=(?:{_QUESTION_WORDS})\b)", re.IGNORECASE
)
_OPENING_QUESTION = re.compile(rf"^\s*(?:{_QUESTION_WORDS})\b", re.IGNORECASE)


class Nav(StrEnum):
    """Menu destinations a question can lead to ("who are the partners?")."""

    PROGRAMME = "programme"
    PANELS = "panels"
    SIDE_EVENTS = "side_events"
    PARTNERS = "partners"
    ORGANIZERS = "organizers"
    PROPOSE = "propose"
    HELP = "help"
    LANGUAGE = "language"
    GREETING = "greeting"  # "hola", "good morning": small talk, answered by lexicon.yaml lists
    THANKS = "thanks"
    ACK = "ack"  # "ok", "vale", "d'acord": small talk too
    NOW = "now"  # what is on now and next (handlers/agenda.py)


NAV_PHRASES: dict[Nav, tuple[str, ...]] = {
    Nav.PROGRAMME: (
        "programme",
        "program",
        "schedule",
        "agenda",
        "timetable",
        "sessions",
        "full day programme",
        "what is on",
    ),
    Nav.PANELS: (
        "panels",
        "expert panels",
        "what panels are there",
        "which panels",
        "list of panels",
        "panel discussions",
    ),
    Nav.SIDE_EVENTS: (
        "side events",
        "side event",
        "parallel events",
        "workshops",
        "side events schedule",
        "side events programme",
    ),
    Nav.PARTNERS: ("partners", "who are the partners", "sponsors", "partner organizations"),
    Nav.ORGANIZERS: (
        "side event organizers",
        "who organizes the side events",
        "organizers of side events",
    ),
    Nav.PROPOSE: (
        "the floor is yours",
        "speaking slot",
        "propose a talk",
        "request a speaking slot",
        "i want to speak",
        "call for speakers",
        "submit a proposal",
        "present my project",
        "give a talk",
        "present a case study",
        "become a speaker",
        "speak at a panel",
        "speak at the event",
        "share our project",
        "send my proposal",
    ),
    Nav.HELP: (
        "help",
        "what can you do",
        "how does this bot work",
        "commands",
    ),
    Nav.GREETING: (),
    Nav.THANKS: (),
    Nav.ACK: (),
    Nav.LANGUAGE: ("language", "change language", "idioma", "cambiar idioma", "canviar idioma"),
    Nav.NOW: (
        "what is on now",
        "what is happening now",
        "now and next",
        "what is next",
        "what comes next",
        "what is next after",
        "current session",
    ),
}


class Searchable(Protocol):
    """One thing a question can be answered with."""

    @property
    def key(self) -> str: ...

    def search_phrases(self) -> list[str]: ...


@dataclass(frozen=True)
class OrganizationEntry:
    organization: Organization

    @property
    def key(self) -> str:
        return f"org:{self.organization.id}"

    def search_phrases(self) -> list[str]:
        return [self.organization.name, *self.organization.aliases]


KIND_WORDS = {
    SessionKind.OPENING: "opening session",
    SessionKind.PANEL: "panel",
    SessionKind.SIDE_EVENT: "side event",
    SessionKind.BREAK: "break",
    SessionKind.CLOSING: "closing session",
}


@dataclass(frozen=True)
class SessionEntry:
    session: Session
    host: Organization | None = None

    @property
    def key(self) -> str:
        return f"session:{self.session.id}"

    def search_phrases(self) -> list[str]:
        """Its titles, "<topic> panel", and "<host> side event" for each name of the host."""
        kind = KIND_WORDS[self.session.kind]
        phrases = [
            *self.session.title.all(),
            *(f"{topic} {kind}" for topic in self.session.topics),
        ]
        if self.host is not None:
            for name in (self.host.name, *self.host.aliases):
                phrases += [f"{name} {kind}", f"{name} session"]
        return phrases


@dataclass(frozen=True)
class FaqEntry:
    faq: Faq

    @property
    def key(self) -> str:
        return f"faq:{self.faq.id}"

    def search_phrases(self) -> list[str]:
        return [*self.faq.question.all(), *self.faq.alternatives]


@dataclass(frozen=True)
class NavEntry:
    nav: Nav

    @property
    def key(self) -> str:
        return f"nav:{self.nav.value}"

    def search_phrases(self) -> list[str]:
        return list(NAV_PHRASES[self.nav])


@dataclass(frozen=True)
class Match:
    key: str
    score: float


@dataclass(frozen=True)
class Answer:
    """What to do with a question: `best` to answer, else `suggestions` (maybe empty)."""

    best: Match | None
    suggestions: list[Match]
    also: list[Match] = field(default_factory=list)  # more facts asked in the same message

    @property
    def keys(self) -> list[str]:
        """Every answer shown: the best one, then the others asked together."""
        return [m.key for m in (self.best, *self.also) if m is not None]


def entries_for(content: Content) -> list[Searchable]:
    entries: list[Searchable] = [OrganizationEntry(o) for o in content.organizations]
    entries += [
        SessionEntry(s, content.organization(s.host) if s.host else None) for s in content.sessions
    ]
    entries += [FaqEntry(f) for f in content.faqs]
    entries += [NavEntry(n) for n in Nav]
    return entries


def _about(entry: Searchable) -> frozenset[str]:
    if isinstance(entry, OrganizationEntry):
        return frozenset({entry.organization.id})
    if isinstance(entry, SessionEntry) and entry.host is not None:
        return frozenset({entry.host.id})
    if isinstance(entry, FaqEntry):
        return frozenset(entry.faq.related)
    return frozenset()


@dataclass
class _Phrase:
    entry: int
    tokens: tuple[str, ...]
    weight: float = field(default=0.0)


class KnowledgeIndex:
    """Fuzzy lookup over everything the bot can answer; immutable once built."""

    def __init__(
        self,
        entries: list[Searchable],
        lexicon: Lexicon | None = None,
        retriever: Retriever | None = None,
    ) -> None:
        self.lexicon = lexicon or default_lexicon()
        self.retriever = retriever
        self.keys = [entry.key for entry in entries]
        self.phrases: list[_Phrase] = []
        postings: dict[str, list[int]] = defaultdict(list)
        entry_tokens: dict[str, set[int]] = defaultdict(set)
        for index, entry in enumerate(entries):
            for text in entry.search_phrases():
                tokens = tuple(dict.fromkeys(self.lexicon.tokens(text)))
                if not tokens:
                    continue
                phrase_id = len(self.phrases)
                self.phrases.append(_Phrase(index, tokens))
                for token in tokens:
                    postings[token].append(phrase_id)
                    entry_tokens[token].add(index)
        count = max(len(entries), 1)
        self.idf = {tok: math.log(1 + count / len(ids)) for tok, ids in entry_tokens.items()}
        self.unknown_idf = math.log(1 + count)
        self.postings = dict(postings)
        self.vocabulary = sorted(self.postings)
        self.word_weight = {
            token: idf * LIGHT_WEIGHT if token in self.lexicon.light_words else idf
            for token, idf in self.idf.items()
        }
        for phrase in self.phrases:
            phrase.weight = sum(self.word_weight[t] for t in phrase.tokens)
        self._token_cache: dict[str, list[tuple[str, float]]] = {}
        # What each entry is about (organization ids), and every full name of each organization.
        self.about = {entry.key: _about(entry) for entry in entries}
        self.org_names: list[tuple[frozenset[str], str]] = []
        self.org_tokens: dict[str, tuple[str, ...]] = {}
        for entry in entries:
            if isinstance(entry, OrganizationEntry):
                org = entry.organization.id
                for text in entry.search_phrases():
                    tokens = tuple(dict.fromkeys(self.lexicon.tokens(text)))
                    if tokens:
                        self.org_names.append((frozenset(tokens), org))
                        self.org_tokens.setdefault(org, tokens)

    @classmethod
    def from_content(cls, content: Content, dense: bool | None = None) -> KnowledgeIndex:
        lexicon = default_lexicon()
        nav = {n.value: phrases for n, phrases in NAV_PHRASES.items()}
        retriever = Retriever(
            passages(content, nav),
            lexicon.stopwords,
            content.event.series,
            dense=dense_enabled() if dense is None else dense,
            expand=lexicon.tokens,
        )
        return cls(entries_for(content), lexicon, retriever)

    def _similar(self, token: str) -> list[tuple[str, float]]:
        """Vocabulary words close to `token` with a similarity in 0..1."""
        cached = self._token_cache.get(token)
        if cached is not None:
            return cached
        exact = token in self.postings
        if len(token) < 4:
            found = [(token, 1.0)] if exact else []
        else:
            # Near spellings count even when the word exists: "diputacion" ~ "diputacio".
            cutoff = 85 if exact else 80 if len(token) < 6 else 75
            hits = process.extract(
                token, self.vocabulary, scorer=fuzz.ratio, score_cutoff=cutoff, limit=6
            )
            found_map = {word: score / 100 for word, score, _ in hits}
            # Partial names: "diput" -> "diputacio", "hospi" -> "hospitalet".
            start = bisect.bisect_left(self.vocabulary, token)
            for word in self.vocabulary[start : start + 6]:
                if not word.startswith(token):
                    break
                found_map[word] = max(found_map.get(word, 0.0), 0.92)
            found = sorted(found_map.items(), key=lambda item: -item[1])
            if found:
                # "speakrs" is "speakers", not also a bit of "speak": far second readings go.
                found = [(w, sim) for w, sim in found if sim >= found[0][1] - SECOND_READING_GAP]
        if len(self._token_cache) < 50_000:
            self._token_cache[token] = found
        return found

    def rank(self, question: str, min_score: float = 0.0) -> list[Match]:
        """Every entry scoring at least `min_score` for the question, best first."""
        return self._rank_tokens(self._tokens(question), min_score)

    def _tokens(self, text: str) -> list[str]:
        return list(dict.fromkeys(self.lexicon.tokens(text)))

    def _rank_tokens(self, tokens: list[str], min_score: float) -> list[Match]:
        if all(token in self.lexicon.light_words for token in tokens):
            # "where is it?": only a phrase made of the very same question words answers it;
            # "what time is it?" matches none and gets no answer.
            return self._exact_light_matches(tokens)
        # per phrase: question word index -> best similarity; and phrase word -> similarity
        question_hits: dict[int, dict[int, float]] = defaultdict(dict)
        phrase_hits: dict[int, dict[str, float]] = defaultdict(dict)
        weights: list[float] = []
        for position, token in enumerate(tokens):
            similar = self._similar(token)
            weight = self.idf[similar[0][0]] if similar else self.unknown_idf
            weights.append(weight * LIGHT_WEIGHT if token in self.lexicon.light_words else weight)
            for word, similarity in similar:
                for phrase_id in self.postings[word]:
                    hits = question_hits[phrase_id]
                    if similarity > hits.get(position, 0.0):
                        hits[position] = similarity
                    seen = phrase_hits[phrase_id]
                    if similarity > seen.get(word, 0.0):
                        seen[word] = similarity
        total = sum(weights)
        best: dict[int, float] = {}
        word_weight = self.word_weight
        for phrase_id, hits in question_hits.items():
            asked = sum(weights[pos] * sim for pos, sim in hits.items()) / total
            if QUESTION_SHARE * asked + (1 - QUESTION_SHARE) < min_score:
                continue  # even covering the whole phrase could not make it count
            phrase = self.phrases[phrase_id]
            covered = (
                sum(word_weight[w] * sim for w, sim in phrase_hits[phrase_id].items())
                / phrase.weight
            )
            score = QUESTION_SHARE * asked + (1 - QUESTION_SHARE) * covered
            if score > best.get(phrase.entry, 0.0):
                best[phrase.entry] = score
        ranked = sorted(best.items(), key=lambda item: -item[1])
        return [Match(self.keys[entry], round(score, 4)) for entry, score in ranked]

    def _exact_light_matches(self, tokens: list[str]) -> list[Match]:
        wanted = set(tokens)
        entries = dict.fromkeys(
            self.phrases[pid].entry
            for token in tokens[:1]
            for pid in self.postings.get(token, ())
            if set(self.phrases[pid].tokens) == wanted
        )
        return [Match(self.keys[entry], 1.0) for entry in entries]

    def answer(self, question: str) -> Answer:
        """The phrase matcher's answer when the content retrieval agrees with it; otherwise what
        the retrieval over everything the content says finds (see `_from_content`)."""
        small_talk = self.lexicon.small_talk_kind(question)
        if small_talk is not None:
            return Answer(Match(f"nav:{small_talk}", 1.0), [])
        phrased = self.phrase_answer(question)
        if self.retriever is None:
            return phrased
        if phrased.also and ACTION_KEYS & set(phrased.keys):
            return phrased  # several things asked, the wish to speak among them
        if self.lexicon.wishes_to_speak(question):
            return Answer(Match(PROPOSE_KEY, 1.0), [])
        if phrased.best is not None and (phrased.also or phrased.best.score >= PHRASE_SURE):
            # It stands whatever the retrieval says: no question embedding needed (most of the
            # time of a question).
            return phrased
        asked = self.retriever.as_event(_asked(question), self.lexicon.descriptive_words)
        lexical = self.retriever.lexical.scores(asked)
        if (
            phrased.best is not None
            and phrased.best.score >= PHRASE_FAIR
            and lexical
            and max(lexical, key=lexical.__getitem__) == phrased.best.key
        ):
            return phrased  # BM25 agrees: confirmed without the embedding
        hits = self.retriever.search(asked, lexical)
        wish = self._wish_to_speak(question, hits)
        if wish is not None:
            return Answer(wish, [])
        if phrased.best is not None and (phrased.also or self._confirmed(phrased.best, hits)):
            return phrased
        return self._from_content(question, hits, phrased)

    def _wish_to_speak(self, question: str, hits: Hits) -> Match | None:
        """The speaking-slot request, when what the message is closest to is asking to speak:
        "quiero ser ponente", or a long message whose point is "could we present it?"."""
        if not hits.dense:
            return None
        first = max(hits.dense.values())
        wish = max(hits.dense.get(key, 0.0) for key in WISH_KEYS)
        if wish >= first and wish >= WISH_SCORE:
            return Match(PROPOSE_KEY, round(wish, 4))
        long = len(question.split()) >= WISH_LONG_WORDS
        if long and wish >= WISH_SCORE_LONG and first - wish <= WISH_GAP_LONG:
            return Match(PROPOSE_KEY, round(wish, 4))
        return None

    def _confirmed(self, best: Match, hits: Hits) -> bool:
        """The phrase matcher's answer stands unless the content retrieval ranks it far down."""
        if best.score >= PHRASE_SURE or not hits.dense:
            return True
        if best.score >= PHRASE_FAIR and hits.lexical_rank()[:1] == [best.key]:
            return True
        return best.key in hits.dense_rank()[:CONFIRM_DEPTH]

    def _from_content(self, question: str, hits: Hits, phrased: Answer) -> Answer:
        """Answer from the content retrieval when both retrievers put the same entry first with
        a clear lead and the question has no words the content does not know; else offer the
        best candidates (the phrase matcher's first), if any is close enough."""
        if not hits.fused:
            return Answer(None, phrased.suggestions)
        named = self._named(self._tokens(question))
        if named:
            # "l'AMB des de quan existeix?": BM25 weighs only what is about the AMB (or about
            # no organization), not when Huawei was founded.
            hits = Hits(
                hits.dense,
                {k: v for k, v in hits.lexical.items() if not self._elsewhere(Match(k, v), named)},
                hits.fused,
            )
        top = hits.fused[0]
        dense_rank = hits.dense_rank()
        lexical_rank = hits.lexical_rank()
        best_dense = hits.dense.get(top, 0.0)
        others = [hits.dense[k] for k in dense_rank[:2] if k != top]
        gap = best_dense - (others[0] if others else 0.0)
        lexical_best = hits.lexical[lexical_rank[0]] if lexical_rank else 0.0
        lexical_top = hits.lexical.get(top, 0.0)
        # BM25 agrees: it ranks the entry first (or nearly), or first ranks the organization
        # the entry is about and the entry close behind ("how many people does Huawei reach").
        about_first = bool(lexical_rank) and lexical_rank[0].partition(":")[2] in self.about.get(
            top, frozenset()
        )
        agree = (
            dense_rank[:1] == [top]
            and lexical_best > 0
            and (
                lexical_top >= LEXICAL_TIE * lexical_best
                or (about_first and lexical_top >= LEXICAL_RELATED * lexical_best)
            )
        )
        # "what time is it": only words that say what is asked, about nothing in particular.
        about_something = any(t not in self.lexicon.light_words for t in self._tokens(question))
        if agree and about_something and best_dense >= DENSE_ANSWER and gap >= DENSE_GAP:
            unknown = [w for w in self._unknown(question) if len(w) >= UNKNOWN_MIN_LENGTH]
            lexical_second = hits.lexical[lexical_rank[1]] if len(lexical_rank) > 1 else 0.0
            # Words the content does not know are only the question's verbs when it names
            # what it is about: "que organismos sustituyo el AMB" (but "how many employees does
            # google have" is about google).
            clear = (
                bool(self.about.get(top, frozenset()) & named.keys())
                and lexical_rank[:1] == [top]
                and lexical_best >= LEXICAL_CLEAR * lexical_second
            )
            if clear or len(unknown) <= UNKNOWN_SHARE * len(question.split()):
                return Answer(Match(top, round(best_dense, 4)), [])
        # A candidate to offer shares at least a word with the content, or shares many.
        if (best_dense >= DENSE_SUGGEST and lexical_best > 0) or lexical_best >= LEXICAL_SUGGEST:
            keys = list(dict.fromkeys([*(m.key for m in phrased.suggestions), *hits.fused]))
            return Answer(
                None, [Match(k, round(hits.dense.get(k, 0.0), 4)) for k in keys[:MAX_SUGGESTIONS]]
            )
        return Answer(None, phrased.suggestions)

    def _unknown(self, question: str) -> list[str]:
        """Words of the question that neither the phrases nor the content know ("google")."""
        assert self.retriever is not None
        lexical = self.retriever.lexical
        out = []
        for word in dict.fromkeys(fold(question).split()):
            if word in self.lexicon.stopwords or word in lexical.surface_set:
                continue
            tokens = [t for t in self.lexicon.tokens(word) if t not in self.lexicon.light_words]
            if all(self._similar(t) for t in tokens):
                continue
            if lexical.fix(word) in lexical.surface_set:
                continue
            out.append(word)
        return out

    def phrase_answer(self, question: str) -> Answer:
        """Answer when one entry clearly wins; otherwise the close candidates, if any.

        A message that asks several things ("when is it and where?", three lines ending in two
        questions) is also answered clause by clause: two or more clear answers are returned
        together (`also`), the organization it names carried into the clauses that do not.
        """
        small_talk = self.lexicon.small_talk_kind(question)
        if small_talk is not None:
            return Answer(Match(f"nav:{small_talk}", 1.0), [])
        whole = self._answer_tokens(self._tokens(question))
        parts = _parts(question)
        if len(parts) < 2 and (whole.best is not None or parts == [question.strip()]):
            return whole
        named = self._named(self._tokens(" ".join(parts)))
        carried = next(iter(named.values())) if len(named) == 1 else frozenset()
        found: list[Match] = []
        for part in parts:
            tokens = self._tokens(part)
            if not tokens or self.lexicon.small_talk_kind(part) is not None:
                continue
            with_subject = list(dict.fromkeys([*tokens, *carried]))
            if carried and not self._named(tokens) and self.lexicon.refers_back(part):
                # "what is OASC, and what will their side event be about?"
                best = self._answer_tokens(with_subject).best
            else:
                best = self._answer_tokens(tokens).best
                if best is None and carried and not self._named(tokens):
                    # "what area, how many municipalities and how many people does the AMB
                    # have?": "what area" is about the AMB.
                    best = self._answer_tokens(with_subject).best
            if best is not None and all(best.key != m.key for m in found):
                found.append(best)
        if len(found) >= 2 and len(parts) > 1:
            if whole.best is not None and all(whole.best.key != m.key for m in found):
                found.insert(0, whole.best)
            return Answer(found[0], [], found[1:MAX_FACTS])
        if whole.best is None and found:
            return Answer(found[0], [])
        return whole

    def _answer_tokens(self, tokens: list[str]) -> Answer:
        if not tokens:
            return Answer(None, [])
        tokens = self._event_name_as_event(tokens)
        known = all(self._similar(t) for t in tokens if t not in self.lexicon.light_words)
        result = self._decide(self._rank_tokens(tokens, SUGGEST_THRESHOLD), known)
        named = self._named(tokens)
        if not named or (result.best is not None and self.about[result.best.key] & named.keys()):
            return result
        # The question names an organization, but no answer about it wins. Try its main name
        # ("where is the EC based" is asked like "where is the European Commission based"),
        # then without the words about the event or a part in it ("who is ESADE and what are
        # they doing at Focus Sessions?" is about ESADE).
        canonical = list(tokens)
        for org, alias in named.items():
            main = self.org_tokens[org]
            if not alias <= set(main):
                canonical = [t for t in canonical if t not in alias]
                canonical += [t for t in main if t not in canonical]
        context = self.lexicon.context_words
        variants = [canonical] if canonical != tokens else []
        for variant in (tokens, canonical):
            kept = [
                token
                for i, token in enumerate(variant)
                if token not in context or (token == "event" and i and variant[i - 1] == "side")
            ]
            if kept and len(kept) < len(variant) and kept not in variants:
                variants.append(kept)
        for variant in variants:
            retry = self._decide(self._rank_tokens(variant, SUGGEST_THRESHOLD), known)
            if retry.best is not None:
                result = retry
                break
            if result.best is None and not result.suggestions:
                result = retry
        best = result.best
        if best is not None and self._elsewhere(best, named):
            # "el AMB desde cuándo existe" is not answered with when Huawei was founded, nor
            # offered it: answers about another organization than the one named step aside.
            return Answer(None, [m for m in result.suggestions if not self._elsewhere(m, named)])
        return result

    def _elsewhere(self, match: Match, named: dict[str, frozenset[str]]) -> bool:
        """Whether `match` is about organizations, none of them one the question names."""
        about = self.about[match.key]
        return bool(about) and not about & named.keys()

    def _event_name_as_event(self, tokens: list[str]) -> list[str]:
        """The event's name counts as "event" unless the question only asks what it is.

        "Where will Focus Sessions take place?" asks about the event, not about the series.
        """
        names = self.lexicon.event_names
        if not names or not any(t in names for t in tokens):
            return tokens
        if all(t in names or t in self.lexicon.descriptive_words for t in tokens):
            return tokens
        return list(dict.fromkeys("event" if t in names else t for t in tokens))

    def _decide(self, ranked: list[Match], known: bool) -> Answer:
        """`known`: every word of the question is in the index (a lone candidate may answer)."""
        ranked = [m for m in ranked if m.score >= SUGGEST_THRESHOLD]
        if not ranked:
            return Answer(None, [])
        top = ranked[0]
        if top.score >= ANSWER_THRESHOLD:
            # A question that is exactly one phrase of an entry needs a smaller lead.
            margin = PERFECT_MARGIN if top.score >= PERFECT_SCORE else CLEAR_MARGIN
            close = [m for m in ranked if top.score - m.score < margin]
            close.sort(key=_priority)
            first, second = close[0], close[1] if len(close) > 1 else None
            if second is None or _priority(first) < _priority(second):
                return Answer(first, [])
        runner_up = ranked[1].score if len(ranked) > 1 else 0.0
        lone = top.score >= LONE_CANDIDATE_SCORE and top.score - runner_up >= LONE_CANDIDATE_GAP
        if known and lone:
            return Answer(top, [])  # one clearly right candidate: no "did you mean" for it
        return Answer(None, ranked[:MAX_SUGGESTIONS])

    def _named(self, tokens: list[str]) -> dict[str, frozenset[str]]:
        """The organizations a question names in full, each with the name it used."""
        present = set(tokens)
        named: dict[str, frozenset[str]] = {}
        for words, org in self.org_names:
            if words <= present and len(words) > len(named.get(org, ())):
                named[org] = words
        return named


def _parts(message: str) -> list[str]:
    """The questions of a message: its question sentences (all sentences if none is one), each
    cut into clauses."""
    sentences = [
        (text, "?" in end or bool(_OPENING_QUESTION.match(text)))
        for text, end in _SENTENCE.findall(message)
        if text.strip()
    ]
    if any(is_question for _, is_question in sentences):
        sentences = [item for item in sentences if item[1]]
    return [
        clause.strip()
        for text, _ in sentences
        for clause in _CLAUSE.split(text)
        if clause and clause.strip()
    ]


def _asked(message: str) -> str:
    """A long message's question sentences only (what it asks, and less to embed): "We did X
    with fibre in our village. Could we tell people about it?" -> the second sentence."""
    if len(message) <= LONG_MESSAGE:
        return message
    sentences = [(text + end).strip() for text, end in _SENTENCE.findall(message) if text.strip()]
    asked = [s for s in sentences if "?" in s or _OPENING_QUESTION.match(s)]
    return " ".join(asked) if asked and len(asked) < len(sentences) else message


def _priority(match: Match) -> float:
    if match.key in ACTION_KEYS:
        return ACTION_PRIORITY
    return KIND_PRIORITY[match.key.partition(":")[0]]
