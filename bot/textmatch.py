"""Turning free text into comparable tokens, the same way for questions and content.

Lower case, accents stripped, Catalan "l·l" folded, Spanish/Catalan words mapped to the English
words the content uses (`lexicon.yaml`), filler words dropped, simple plurals folded.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

LEXICON_PATH = Path(__file__).parent / "lexicon.yaml"
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_HINT_WORD = re.compile(r"[\w·'’]+", re.UNICODE)
# Catalan elision: "l'esdeveniment", "d'urbact", "m'hi" (English "what's" has no word break
# before the letter; Spanish does not elide).
_ELISION = re.compile(r"\b[dlmnst]['’]\w", re.UNICODE)


def fold(text: str) -> str:
    """Lower case, no accents, punctuation as single spaces."""
    text = text.lower().replace("l·l", "ll").replace("l.l", "ll")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", text).strip()


WISH_WINDOW = 5  # words from "we would like" to "present": "puc demanar un espai per parlar"


@cache
def stock_stopwords() -> frozenset[str]:
    """Function words of English and Spanish (bm25s's NLTK lists) and Catalan (stop-words),
    folded like the text they are removed from."""
    from bm25s.stopwords import STOPWORDS_EN_PLUS, STOPWORDS_SPANISH
    from stop_words import get_stop_words

    stock = [*STOPWORDS_EN_PLUS, *STOPWORDS_SPANISH, *get_stop_words("catalan")]
    return frozenset(folded for word in stock if (folded := fold(word)) and " " not in folded)


def _singular(token: str) -> str:
    if len(token) > 4 and token.endswith("s") and not token.endswith("ss"):
        return token[:-1]
    return token


@dataclass(frozen=True)
class Lexicon:
    stopwords: frozenset[str]
    light_words: frozenset[str]
    small_talk: dict[str, str]  # folded phrase -> "greeting" | "thanks" | "ack"
    words: dict[str, str]
    phrases: dict[str, str]
    phrase_pattern: re.Pattern[str] | None
    context_words: frozenset[str] = frozenset()
    language_hints: dict[str, frozenset[str]] | None = None
    event_names: frozenset[str] = frozenset()
    descriptive_words: frozenset[str] = frozenset()
    pronouns: frozenset[str] = frozenset()
    wish_openers: tuple[tuple[str, ...], ...] = ()
    speaking_words: tuple[str, ...] = ()
    wish_breaks: frozenset[str] = frozenset()
    wish_not_before: frozenset[str] = frozenset()

    @classmethod
    def from_yaml(cls, path: Path = LEXICON_PATH) -> Lexicon:
        return cls.from_dict(yaml.safe_load(path.read_text(encoding="utf-8")) or {})

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Lexicon:
        # The stock lists, less the words that say what is asked ("when", "quan", "on") or name
        # something ("amb" is Catalan "with" and the AMB), plus what chats add ("pls", "porfa").
        kept = {fold(str(w)) for w in raw.get("not_stopwords") or []}
        extra = {fold(str(w)) for w in raw.get("stopwords") or []}
        stopwords = frozenset((stock_stopwords() - kept) | extra)
        light = frozenset(_singular(fold(str(w))) for w in raw.get("light_words") or [])
        small_talk = {fold(str(w)): "greeting" for w in raw.get("greetings") or []}
        small_talk |= {fold(str(w)): "thanks" for w in raw.get("thanks") or []}
        small_talk |= {fold(str(w)): "ack" for w in raw.get("acknowledgements") or []}
        synonyms = {fold(str(k)): fold(str(v)) for k, v in (raw.get("synonyms") or {}).items()}
        words = {k: v for k, v in synonyms.items() if k and " " not in k}
        phrases = {k: v for k, v in synonyms.items() if " " in k}
        # One alternation, longest phrases first, so "brecha digital" wins over "digital".
        alternation = "|".join(re.escape(k) for k in sorted(phrases, key=len, reverse=True))
        pattern = re.compile(rf"\b(?:{alternation})\b") if phrases else None
        context = frozenset(_singular(fold(str(w))) for w in raw.get("context_words") or [])
        hints = {
            str(lang): frozenset(str(w).lower().replace("’", "'") for w in hint_words or [])
            for lang, hint_words in (raw.get("language_hints") or {}).items()
        }
        event_names = frozenset(_singular(fold(str(w))) for w in raw.get("event_names") or [])
        descriptive = frozenset(
            _singular(fold(str(w))) for w in raw.get("descriptive_words") or []
        )
        wish = raw.get("wish_to_speak") or {}
        return cls(
            stopwords,
            light,
            small_talk,
            words,
            phrases,
            pattern,
            context,
            hints,
            event_names,
            descriptive,
            frozenset(fold(str(w)) for w in raw.get("pronouns") or []),
            tuple(tuple(fold(str(w)).split()) for w in wish.get("wanting") or []),
            tuple(fold(str(w)) for w in wish.get("speaking") or []),
            frozenset(fold(str(w)) for w in wish.get("breaks") or []),
            frozenset(fold(str(w)) for w in wish.get("not_before") or []),
        )

    def wishes_to_speak(self, text: str) -> bool:
        """Whether `text` says its writer would like to speak or present ("could we tell people
        about it?", "nos gustaría participar como ponentes"): a wish or a "may I" followed,
        within a few words and before any question word, by something a speaker does."""
        words = fold(text).split()
        for start in range(len(words)):
            for opener in self.wish_openers:
                end = start + len(opener)
                if tuple(words[start:end]) != opener:
                    continue
                for at in range(end, min(end + WISH_WINDOW, len(words))):
                    if words[at] in self.wish_breaks:
                        break
                    after = words[at + 1] if at + 1 < len(words) else ""
                    if words[at].startswith(self.speaking_words) and (
                        after not in self.wish_not_before
                    ):
                        return True
        return False

    def refers_back(self, text: str) -> bool:
        """Whether `text` points back at something named before ("when was it founded?")."""
        return any(word in self.pronouns for word in fold(text).split())

    def guess_language(self, text: str) -> str | None:
        """The language `text` is clearly written in ("en", "es", "ca"), or None if unsure.

        Counts words that belong to one language only; the winner must lead by two words, or
        by one when the other two have none ("socios", "quins panells?").
        """
        if not self.language_hints:
            return None
        lowered = text.lower().replace("’", "'")
        words = _HINT_WORD.findall(lowered)
        counts = {
            lang: sum(1 for word in words if word in hints)
            for lang, hints in self.language_hints.items()
        }
        if "ca" in counts:
            counts["ca"] += len(_ELISION.findall(lowered))
        ranked = sorted(counts.items(), key=lambda item: -item[1])
        if not ranked or ranked[0][1] == 0:
            return None
        best, top = ranked[0]
        runner_up = ranked[1][1] if len(ranked) > 1 else 0
        if top - runner_up >= 2 or (runner_up == 0 and top >= 1):
            return best
        return None

    def small_talk_kind(self, text: str) -> str | None:
        """ "greeting", "thanks" or "ack" (an "ok") when the message is only that (and filler
        words); the first one said decides, an "ok" only if nothing else is said ("ok,
        thanks!" is a thanks)."""
        words = fold(text).split()
        kind = None
        position = 0
        while position < len(words):
            for size in (4, 3, 2, 1):
                found = self.small_talk.get(" ".join(words[position : position + size]))
                if found:
                    kind = found if kind in (None, "ack") else kind
                    position += size
                    break
            else:
                if words[position] not in self.stopwords:
                    return None
                position += 1
        return kind

    def tokens(self, text: str) -> tuple[str, ...]:
        """The content words of `text`, in order, normalized for matching."""
        folded = fold(text)
        if self.phrase_pattern is not None:
            folded = self.phrase_pattern.sub(lambda m: self.phrases[m.group(0)], folded)
        out: list[str] = []
        for word in folded.split():
            for part in self.words.get(word, word).split():
                if part not in self.stopwords:
                    out.append(_singular(part))
        return tuple(out)


@cache
def default_lexicon() -> Lexicon:
    return Lexicon.from_yaml()
