"""The speaking-slot conversation declared as data: FLOW, one entry per step, in order.

Each entry says what the step asks (its prompt), how its answer is read (typed and validated,
or pressed and accepted), which field of the draft it fills, and whether it can be skipped.
What comes next is the following entry; "back" is the one before. ProposalService saves
answers by reading the entry, and the handlers draw the question, its buttons, the progress
line ("Step 6 of 10") and the summary's edit buttons from it: adding a step is one entry
(plus its catalog strings, and a column if it stores a new field).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Protocol
from urllib.parse import urlsplit

from rapidfuzz import fuzz, process

from bot.content import Content, Session
from bot.i18n import LANGUAGES, plain
from bot.models import ProposalDraft
from bot.privacy import retention
from bot.proposal_errors import InvalidAnswer, StaleButton
from bot.textmatch import fold


class Step(StrEnum):
    """The steps' names (kept in the draft row and in the buttons' data)."""

    NAME = "name"
    ORGANIZATION = "organization"
    SECTOR = "sector"
    EMAIL = "email"
    FORMAT = "format"
    TITLE = "title"
    SUMMARY = "summary"
    LINK = "link"
    CONSENT = "consent"
    SPOT = "spot"
    REVIEW = "review"


class Kind(StrEnum):
    """How a step is answered."""

    TEXT = "text"  # typed, and validated
    CHOICE = "choice"  # one of its buttons
    CONSENT = "consent"  # its one button, given once (not changed from the summary)
    REVIEW = "review"  # the summary: submit, or change one field


SECTORS: Final = ("government", "company", "academia", "civil_society", "other")
SKIP: Final = "skip"
AGREE: Final = "yes"
NO_PREFERENCE: Final = "none"
# The button that takes a held text (a question, answered) as the step's answer after all.
KEEP: Final = "keep"

# Typed instead of pressing Skip / I agree (folded: lower case, no accents), in en / es / ca;
# the buttons' own labels are read too.
SKIP_WORDS: Final = frozenset(
    {"skip", "skip it", "no", "none", "no link", "saltar", "salta", "omitir", "sin enlace",
     "omet", "ometre", "sense enllac", "pass", "next", "siguiente", "seguent"}
)  # fmt: skip
AGREE_WORDS: Final = frozenset(
    {"yes", "y", "i agree", "agree", "ok", "okay", "si", "de acuerdo", "acepto", "vale",
     "d acord", "dacord", "hi estic d acord", "accepto", "estoy de acuerdo"}
)  # fmt: skip
# A typed choice this close to one button's label (rapidfuzz ratio, 0-100, folded text) is
# that button; nearer to two buttons' labels it is no answer.
CHOICE_CUTOFF: Final = 85
CHOICE_MARGIN: Final = 8

NAME_LENGTH: Final = (2, 100)
ORGANIZATION_LENGTH: Final = (2, 150)
TITLE_LENGTH: Final = (3, 120)
SUMMARY_LENGTH: Final = (50, 1000)
LINK_MAX_LENGTH: Final = 300
EMAIL_MAX_LENGTH: Final = 254
# Deliberately strict: dot-atom local part, a dotted domain of LDH labels, a letter TLD.
_EMAIL: Final = re.compile(
    r"^(?P<local>[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*)"
    r"@(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})$"
)
_SPACES: Final = re.compile(r"\s+")


class FlowSource(Protocol):
    """What a step's buttons and prompt may read: the content, and the sessions that fit."""

    @property
    def content(self) -> Content: ...

    def suggestions(self, draft: ProposalDraft) -> list[Session]: ...


# A typed text -> the value kept (InvalidAnswer if it does not fit).
Validate = Callable[[str], str]
# A pressed button's value -> the value kept (StaleButton if it is not one of the step's).
Accept = Callable[[Content, str], object]
# The step's buttons, (label, value), in a language.
Options = Callable[[FlowSource, ProposalDraft, str], list[tuple[str, str]]]
# The step's question: its catalog key and the values of its placeholders.
Prompt = Callable[[FlowSource, ProposalDraft, str], tuple[str, Mapping[str, object]]]


# -- typed answers ------------------------------------------------------------------------------


def clean_text(text: str, *, single_line: bool = True) -> str:
    """Drop control characters, and line breaks too for one-line answers."""
    text = text.replace("\t", " ").replace("\r\n", "\n").replace("\r", "\n")
    kept = "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch)[0] != "C")
    if single_line:
        return _SPACES.sub(" ", kept).strip()
    return "\n".join(_SPACES.sub(" ", line).strip() for line in kept.strip().splitlines())


def _length_checked(text: str, bounds: tuple[int, int], code: str) -> str:
    low, high = bounds
    if not low <= len(text) <= high or not any(ch.isalnum() for ch in text):
        raise InvalidAnswer(code, low=low, high=high, length=len(text))
    return text


def validate_email(text: str) -> str:
    """A plausible e-mail address, domain lower-cased."""
    candidate = text.strip()
    match = _EMAIL.match(candidate)
    if match is None or len(candidate) > EMAIL_MAX_LENGTH or len(match["local"]) > 64:
        raise InvalidAnswer("email_invalid")
    return f"{match['local']}@{match['domain'].lower()}"


def validate_link(text: str) -> str:
    """An http(s) address; "www.example.org" gets https:// in front."""
    candidate = text.strip()
    if "://" not in candidate and re.match(r"^[\w-]+(\.[\w-]+)+(/\S*)?$", candidate):
        candidate = f"https://{candidate}"
    try:
        parts = urlsplit(candidate)
        host = parts.hostname or ""
    except ValueError:
        raise InvalidAnswer("link_invalid") from None
    if (
        parts.scheme not in {"http", "https"}
        or "." not in host
        or any(ch.isspace() for ch in candidate)
        or len(candidate) > LINK_MAX_LENGTH
    ):
        raise InvalidAnswer("link_invalid", max=LINK_MAX_LENGTH)
    return candidate


def validate_summary(text: str) -> str:
    low, high = SUMMARY_LENGTH
    if len(text) < low:
        raise InvalidAnswer("summary_too_short", low=low, length=len(text))
    if len(text) > high:
        raise InvalidAnswer("summary_too_long", high=high, length=len(text))
    return text


def one_line(check: Validate) -> Validate:
    """`check` of the text on one line, without control characters."""
    return lambda text: check(clean_text(text))


def length(bounds: tuple[int, int], code: str) -> Validate:
    """One line of `bounds` characters, with a letter or digit in it."""
    return one_line(lambda text: _length_checked(text, bounds, code))


def _summary(text: str) -> str:
    return validate_summary(clean_text(text, single_line=False))


# -- pressed answers ----------------------------------------------------------------------------


def _sector(_: Content, value: str) -> str:
    if value not in SECTORS:
        raise StaleButton()
    return value


def _format(content: Content, value: str) -> str:
    if content.proposal_format(value) is None:
        raise StaleButton()
    return value


def _agreed(_: Content, value: str) -> bool:
    if value != AGREE:
        raise StaleButton()
    return True


def _spot(content: Content, value: str) -> str | None:
    """A session open to contributions, or no preference."""
    if value == NO_PREFERENCE:
        return None
    session = content.session(value)
    if session is None or not session.open_for_contributions:
        raise StaleButton()
    return value


def _sector_buttons(_: FlowSource, __: ProposalDraft, lang: str) -> list[tuple[str, str]]:
    return [(plain(f"proposals.sector.{s}", lang), s) for s in SECTORS]


def _format_buttons(source: FlowSource, _: ProposalDraft, lang: str) -> list[tuple[str, str]]:
    return [(f.label.get(lang), f.id) for f in source.content.proposal_formats]


def _agree_button(_: FlowSource, __: ProposalDraft, lang: str) -> list[tuple[str, str]]:
    return [(plain("proposals.button.agree", lang), AGREE)]


def _spot_buttons(source: FlowSource, draft: ProposalDraft, lang: str) -> list[tuple[str, str]]:
    """The sessions that fit best, then no preference. No room on a button to say a drafted
    time is indicative: the title alone then."""
    drafted = source.content.draft
    spots = [
        (s.title.get(lang) if drafted else f"{s.start:%H:%M} · {s.title.get(lang)}", s.id)
        for s in source.suggestions(draft)
    ]
    return [*spots, (plain("proposals.no_preference", lang), NO_PREFERENCE)]


def typed_choice(
    options: list[tuple[str, str]], text: str, words: frozenset[str] = frozenset()
) -> str | None:
    """The value of the button `text` names: its label in any language, any case, with or
    without accents, a small typo ("Compnay"); or one of `words` for a step with a single
    button. None when it names no button, or could be two."""
    typed = fold(text)
    if not typed:
        return None
    values = {value for _, value in options}
    if words and typed in words and len(values) == 1:
        return next(iter(values))
    labels: dict[str, set[str]] = {}
    for label, value in options:
        for name in (label, value):
            folded = fold(name)
            if folded:
                labels.setdefault(folded, set()).add(value)
    exact = labels.get(typed)
    if exact is not None:
        return next(iter(exact)) if len(exact) == 1 else None
    scored = process.extract(typed, list(labels), scorer=fuzz.ratio, limit=None)
    best = [(name, score) for name, score, _ in scored if score >= CHOICE_CUTOFF]
    if not best:
        return _part_of_one_label(typed, labels)
    found = labels[best[0][0]]
    # Another button scores about as well: which one was meant is a guess, so ask again.
    rivals = {
        value
        for name, score, _ in scored
        if score >= best[0][1] - CHOICE_MARGIN
        for value in labels[name]
    }
    return next(iter(found)) if len(found) == 1 and rivals == found else None


def _part_of_one_label(typed: str, labels: dict[str, set[str]]) -> str | None:
    """The button whose label holds every word typed, typos forgiven ("local government",
    "adminstracio local" for "Local or regional government"): two words at least, and one
    button only."""
    words = typed.split()
    if len(words) < 2:
        return None
    found = {
        value
        for name, values in labels.items()
        if all(
            process.extractOne(word, name.split(), scorer=fuzz.ratio, score_cutoff=CHOICE_CUTOFF)
            for word in words
        )
        for value in values
    }
    return next(iter(found)) if len(found) == 1 else None


# -- prompts ------------------------------------------------------------------------------------


def asks(key: str, **values: object) -> Prompt:
    """A question that is always the same: `key` with `values`."""
    return lambda source, draft, lang: (key, values)


def _consent_prompt(
    source: FlowSource, _: ProposalDraft, lang: str
) -> tuple[str, Mapping[str, object]]:
    # The same retention promise as /privacy.
    return "proposals.ask.consent", {"retention": retention(source.content, lang)}


def _spot_prompt(
    source: FlowSource, draft: ProposalDraft, _: str
) -> tuple[str, Mapping[str, object]]:
    key = "proposals.ask.spot" if source.suggestions(draft) else "proposals.ask.spot_none_open"
    return key, {}


# -- the declaration ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FlowStep:
    """One step: what it asks, how its answer is read, and where the answer is kept."""

    name: Step
    kind: Kind
    field: str | None = None  # the draft's column the answer fills
    validate: Validate | None = None  # a typed answer -> the value kept
    accept: Accept | None = None  # a pressed button's value -> the value kept
    buttons: Options | None = None  # the buttons answering it
    prompt: Prompt | None = None  # None: the catalog's "proposals.ask.<name>"
    skippable: bool = False  # a Skip button leaves the field empty
    optional: bool = False  # an answer may leave the field empty (no preference)

    @property
    def typed(self) -> bool:
        return self.kind is Kind.TEXT

    @property
    def editable(self) -> bool:
        """Changed from the summary (consent is given once)."""
        return self.kind in (Kind.TEXT, Kind.CHOICE)

    @property
    def required(self) -> bool:
        """Its field must be filled before the request can be submitted."""
        return self.field is not None and not (self.skippable or self.optional)

    def answer(self, draft: ProposalDraft) -> object:
        """What the draft holds for this step (None for the summary)."""
        return getattr(draft, self.field) if self.field else None

    def question(
        self, source: FlowSource, draft: ProposalDraft, lang: str
    ) -> tuple[str, Mapping[str, object]]:
        """The catalog key of its question, and the values of its placeholders."""
        if self.prompt is None:
            return f"proposals.ask.{self.name.value}", {}
        return self.prompt(source, draft, lang)

    def options(
        self, source: FlowSource, draft: ProposalDraft, lang: str
    ) -> list[tuple[str, str]]:
        """Its answer buttons, (label, value); none for a typed step."""
        return self.buttons(source, draft, lang) if self.buttons is not None else []

    def typed_value(self, source: FlowSource, draft: ProposalDraft, text: str) -> str | None:
        """The button a typed text names ("Company", "empresa", "yes", "skip"), in any of the
        bot's languages; None if it names none. A typed step only knows its Skip."""
        options = (
            []
            if self.typed
            else [option for lang in LANGUAGES for option in self.options(source, draft, lang)]
        )
        words = AGREE_WORDS if self.kind is Kind.CONSENT else frozenset()
        if self.skippable:
            skips = [(plain("proposals.button.skip", lang), SKIP) for lang in LANGUAGES]
            if fold(text) in SKIP_WORDS or typed_choice(skips, text) == SKIP:
                return SKIP
        return typed_choice(options, text, words) if options else None

    def accepts(self, text: str) -> bool:
        """A typed step's validator would keep `text` as its answer."""
        if self.validate is None:
            return False
        try:
            self.validate(text)
        except InvalidAnswer:
            return False
        return True


class Flow:
    """The steps in the order they are asked, the summary last."""

    def __init__(self, *steps: FlowStep) -> None:
        _check(steps)
        self.steps: Final = steps
        self._index: Final = {entry.name: i for i, entry in enumerate(steps)}
        self.first: Final = steps[0].name
        self.questions: Final = steps[:-1]  # the summary is not a question
        self.editable: Final = tuple(entry for entry in steps if entry.editable)

    def __iter__(self) -> Iterator[FlowStep]:
        return iter(self.steps)

    def __getitem__(self, step: Step | str) -> FlowStep:
        return self.steps[self._index[Step(step)]]

    def next_step(self, step: Step) -> Step:
        """The step asked after `step` (the summary stays the summary)."""
        return self.steps[min(self._index[step] + 1, len(self.steps) - 1)].name

    def previous_step(self, step: Step) -> Step:
        """The step before `step` (the first stays the first)."""
        return self.steps[max(self._index[step] - 1, 0)].name

    def progress(self, step: Step) -> tuple[int, int]:
        """(number, total) of a question: "Step 6 of 10"."""
        return self._index[step] + 1, len(self.questions)

    def is_editable(self, step: str) -> bool:
        return step in self._index and self[step].editable

    def complete(self, draft: ProposalDraft) -> bool:
        """Every required field filled: the draft can become a request."""
        return all(entry.answer(draft) for entry in self.steps if entry.required)


def _check(steps: tuple[FlowStep, ...]) -> None:
    """A declaration the conversation can run: refused at import, not mid-conversation."""
    names = [entry.name for entry in steps]
    if not steps or steps[-1].kind is not Kind.REVIEW or names[-1] is not Step.REVIEW:
        raise ValueError("the flow ends with the summary")
    if len(set(names)) != len(names):
        raise ValueError("a step is declared twice")
    for entry in steps[:-1]:
        answered = entry.validate if entry.typed else entry.accept and entry.buttons
        if entry.field is None or not answered or entry.kind is Kind.REVIEW:
            raise ValueError(f"{entry.name}: a question fills a field from its answer")


FLOW: Final = Flow(
    FlowStep(Step.NAME, Kind.TEXT, "name", validate=length(NAME_LENGTH, "name_length")),
    FlowStep(
        Step.ORGANIZATION,
        Kind.TEXT,
        "organization",
        validate=length(ORGANIZATION_LENGTH, "organization_length"),
    ),
    FlowStep(Step.SECTOR, Kind.CHOICE, "sector", accept=_sector, buttons=_sector_buttons),
    FlowStep(Step.EMAIL, Kind.TEXT, "email", validate=one_line(validate_email)),
    FlowStep(Step.FORMAT, Kind.CHOICE, "format_id", accept=_format, buttons=_format_buttons),
    FlowStep(
        Step.TITLE,
        Kind.TEXT,
        "title",
        validate=length(TITLE_LENGTH, "title_length"),
        prompt=asks("proposals.ask.title", high=TITLE_LENGTH[1]),
    ),
    FlowStep(
        Step.SUMMARY,
        Kind.TEXT,
        "summary",
        validate=_summary,
        prompt=asks("proposals.ask.summary", low=SUMMARY_LENGTH[0], high=SUMMARY_LENGTH[1]),
    ),
    FlowStep(Step.LINK, Kind.TEXT, "link", validate=one_line(validate_link), skippable=True),
    FlowStep(
        Step.CONSENT,
        Kind.CONSENT,
        "consent",
        accept=_agreed,
        buttons=_agree_button,
        prompt=_consent_prompt,
    ),
    FlowStep(
        Step.SPOT,
        Kind.CHOICE,
        "session_id",
        accept=_spot,
        buttons=_spot_buttons,
        prompt=_spot_prompt,
        optional=True,
    ),
    FlowStep(Step.REVIEW, Kind.REVIEW),
)
