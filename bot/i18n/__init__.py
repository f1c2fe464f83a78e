"""Message catalogs (en, es, ca) and `t(key, lang, **values)`.

Catalogs are YAML files in `catalogs/`, one per area of the bot; each key carries its three
translations side by side so a missing one is easy to spot (a test checks it).
Every value passed to `t` is HTML-escaped unless it is wrapped in `Html`: user text can never
inject markup into a message sent with HTML formatting.

Counts: `{count:plural:one request|{count} requests}` says the first form when `count` is 1
and the second otherwise (English, Spanish and Catalan have these two forms for whole
numbers); the forms may hold other placeholders, and `|` and braces nowhere else.
"""

from __future__ import annotations

import html
import string
from functools import cache
from pathlib import Path
from typing import Final

import yaml

LANGUAGES: Final = ("en", "es", "ca")
DEFAULT_LANGUAGE: Final = "en"
LANGUAGE_NAMES: Final = {"en": "English", "es": "Español", "ca": "Català"}
CATALOG_DIR: Final = Path(__file__).parent / "catalogs"


class Html(str):
    """A string that is already safe HTML (rendered by the bot itself)."""

    __slots__ = ()


def normalize_language(code: str | None) -> str:
    """Map a Telegram `language_code` ("es-ES", "ca") to a supported language."""
    if not code:
        return DEFAULT_LANGUAGE
    base = code.split("-")[0].split("_")[0].lower()
    return base if base in LANGUAGES else DEFAULT_LANGUAGE


@cache
def catalog() -> dict[str, dict[str, str]]:
    """All keys of all catalog files: key -> {lang: template}."""
    merged: dict[str, dict[str, str]] = {}
    for path in sorted(CATALOG_DIR.glob("*.yaml")):
        entries = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key, translations in entries.items():
            if key in merged:
                raise ValueError(f"catalog key {key!r} is defined twice ({path.name})")
            merged[key] = {lang: str(text) for lang, text in translations.items()}
    return merged


PLURAL: Final = "plural:"


class CatalogFormatter(string.Formatter):
    """str.format, plus the `plural:` format of counts."""

    def format_field(self, value: object, format_spec: str) -> str:
        if format_spec.startswith(PLURAL):
            one, _, other = format_spec.removeprefix(PLURAL).partition("|")
            return one if value == 1 else other
        return str(super().format_field(value, format_spec))


FORMATTER: Final = CatalogFormatter()


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _escape(value: object) -> object:
    if isinstance(value, Html):
        return value
    if isinstance(value, str):
        return html.escape(value, quote=False)
    return value


def t(key: str, lang: str, /, **values: object) -> Html:
    """The message `key` in `lang` (English when missing), with escaped `values`."""
    translations = catalog()[key]
    template = translations.get(lang) or translations[DEFAULT_LANGUAGE]
    return Html(FORMATTER.format(template, **{name: _escape(v) for name, v in values.items()}))


def plain(key: str, lang: str, /, **values: object) -> str:
    """The message without HTML escaping: for button labels and other plain-text places."""
    translations = catalog()[key]
    template = translations.get(lang) or translations[DEFAULT_LANGUAGE]
    return FORMATTER.format(template, **values)
