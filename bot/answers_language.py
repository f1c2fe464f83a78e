"""Which language to answer a typed question in: the text's own, when it is clear.

Short texts are read with `lingua` (lingua-language-detector), limited to the bot's languages.
When the text does not clearly say ("hola" is Spanish and Catalan, "huawei?" is no language),
the reply keeps the person's setting, or, if the text is plausibly in their Telegram language
and not in their setting, that one.
"""

from __future__ import annotations

from functools import cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

_CODES = {Language.ENGLISH: "en", Language.SPANISH: "es", Language.CATALAN: "ca"}
CONFIDENT = 0.6  # the text is in this language
PLAUSIBLE = 0.3  # the text could be in this language (a fallback that fits it wins)
MIN_LETTERS = 2
MAX_WORDS = 40


@cache
def _detector() -> LanguageDetector:
    return LanguageDetectorBuilder.from_languages(*_CODES).build()


def confidences(text: str) -> list[tuple[str, float]]:
    """The bot's languages with how likely `text` is written in each, most likely first."""
    if sum(ch.isalpha() for ch in text) < MIN_LETTERS:
        return []
    # Each word once, the first MAX_WORDS: "huawei huawei huawei ..." is no language at all.
    distinct = " ".join(list(dict.fromkeys(text.split()))[:MAX_WORDS])
    values = _detector().compute_language_confidence_values(distinct)
    return [(_CODES[v.language], v.value) for v in values if v.language in _CODES]


def reply_language(
    text: str, setting: str, telegram: str | None = None, marked: str | None = None
) -> str:
    """The language to answer `text` in, for a person who reads `setting` and whose Telegram
    is in `telegram` (None: unknown or not one of ours). `marked`: the language the text's own
    words mark it as, if any (Catalan elisions such as "m'hi", which statistics on three words
    can miss: `Lexicon.guess_language`)."""
    if marked is not None:
        return marked
    ranked = confidences(text)
    if not ranked:
        return setting
    best, value = ranked[0]
    if value >= CONFIDENT:
        return best
    plausible = {lang for lang, v in ranked if v >= PLAUSIBLE}
    if setting in plausible or not plausible:
        return setting
    if telegram is not None and telegram in plausible:
        return telegram
    return setting
