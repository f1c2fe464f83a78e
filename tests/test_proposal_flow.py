"""The speaking-slot flow follows its declaration (bot/proposal_flow.py): the order asked,
the number of questions announced, the progress line, Skip, Back, the summary's edit buttons
and what a request needs all come from FLOW, so a different FLOW (here, steps moved, one made
skippable, one left out) is run as is."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest
from telegram.ext import Application

from bot.content.store import ContentStore
from bot.i18n import catalog, placeholders, plain, t
from bot.models import Proposal, ProposalDraft
from bot.proposal_flow import FLOW, Flow, FlowStep, Kind, Step, typed_choice
from devtools.local_api import JSON, Call, LocalChat, buttons_of
from handlers.context import services_of
from tests.conftest import CONTENT_DIR
from tests.proposal_support import SUMMARY, TITLE, count, text_of

TYPED = {
    Step.NAME: "Ana Pérez",
    Step.ORGANIZATION: "Ajuntament de Vic",
    Step.EMAIL: "ana@example.org",
    Step.TITLE: TITLE,
    Step.SUMMARY: SUMMARY,
    Step.LINK: "https://example.org",
}
_ENTRIES = {entry.name: entry for entry in FLOW}
# A test-only flow: the organization asked later and skippable, no consent step.
REORDERED = Flow(
    *(_ENTRIES[s] for s in (Step.NAME, Step.SECTOR, Step.EMAIL, Step.FORMAT, Step.TITLE)),
    dataclasses.replace(_ENTRIES[Step.ORGANIZATION], skippable=True),
    *(_ENTRIES[s] for s in (Step.SUMMARY, Step.LINK, Step.SPOT, Step.REVIEW)),
)
App = Application  # type: ignore[type-arg]


def screen(chat: LocalChat) -> JSON:
    """The bot's latest message with buttons: the step on screen."""
    message = chat.last_bot_message(with_buttons=True)
    assert message is not None
    return message


def labels(message: JSON) -> list[str]:
    return [b["text"] for b in buttons_of(message)]


def data_of(message: JSON, prefix: str) -> list[str]:
    return [d for b in buttons_of(message) if (d := b["callback_data"]).startswith(prefix)]


async def answer(chat: LocalChat, entry: FlowStep) -> list[Call]:
    """Skip a skippable step, type a typed one, press the first button of the others."""
    if entry.skippable:
        return await chat.press_data(f"fl:c:{entry.name}:skip")
    if entry.typed:
        return await chat.send(TYPED[entry.name])
    return await chat.press_data(data_of(screen(chat), f"fl:c:{entry.name}:")[0])


async def assert_asks(app: App, chat: LocalChat, flow: Flow, entry: FlowStep) -> None:
    """The step on screen is `entry`, drawn as declared."""
    message = screen(chat)
    service = services_of(app).drafts
    draft = await service.draft_of(chat.user_id)
    assert draft is not None and draft.step == entry.name
    number = flow.questions.index(entry) + 1
    assert f"Step {number} of {len(flow.questions)}" in message["text"]
    key, values = entry.question(service.source(draft), draft, "en")
    assert t(key, "en", **values) in message["text"]
    assert (plain("proposals.button.skip", "en") in labels(message)) == entry.skippable
    assert (plain("proposals.button.back", "en") in labels(message)) == (entry.name != flow.first)


@pytest.mark.parametrize("flow", [FLOW, REORDERED], ids=["FLOW", "reordered"])
async def test_the_conversation_follows_the_declared_flow(
    chat: LocalChat, app: App, flow: Flow, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services_of(app).drafts, "flow", flow)
    calls = await chat.send("/propose")
    assert f"I'll ask {len(flow.questions)} short questions" in text_of(calls)
    for entry in flow.questions:
        await assert_asks(app, chat, flow, entry)
        await answer(chat, entry)
    # The summary: one edit button per editable step, in the flow's order.
    summary = screen(chat)
    assert data_of(summary, "fl:e:") == [f"fl:e:{e.name}" for e in flow.editable]
    fields = [plain(f"proposals.field.{e.name}", "en") for e in flow.editable]
    edits = [plain("proposals.button.edit", "en", field=field) for field in fields]
    assert [label for label in labels(summary) if label.startswith("✏️")] == edits
    # Back, from the summary to the first question, walks the flow backwards.
    for entry in reversed(flow.questions):
        await chat.press("Back")
        await assert_asks(app, chat, flow, entry)
    # Forwards again; the request is complete when the flow's steps are.
    for entry in flow.questions:
        await answer(chat, entry)
    (submit,) = data_of(screen(chat), "fl:s:")
    calls = await chat.press_data(submit)
    assert "FS-0001" in text_of(calls) and await count(app, Proposal) == 1


def test_a_declaration_that_cannot_run_is_refused() -> None:
    name, review = _ENTRIES[Step.NAME], _ENTRIES[Step.REVIEW]
    with pytest.raises(ValueError, match="ends with the summary"):
        Flow(name)
    with pytest.raises(ValueError, match="declared twice"):
        Flow(name, name, review)
    with pytest.raises(ValueError, match="fills a field"):
        Flow(dataclasses.replace(name, validate=None), review)
    with pytest.raises(ValueError, match="fills a field"):
        Flow(FlowStep(Step.SECTOR, Kind.CHOICE, "sector"), review)


@pytest.mark.parametrize("suggested", [False, True])
def test_every_step_has_its_strings_and_the_summary_shows_every_field(suggested: bool) -> None:
    content = ContentStore(CONTENT_DIR).content
    sessions = content.sessions[:1] if suggested else []
    source = SimpleNamespace(content=content, suggestions=lambda draft: sessions)
    keys = catalog()
    for entry in FLOW.questions:
        key, values = entry.question(source, ProposalDraft(), "en")  # type: ignore[arg-type]
        assert key in keys and placeholders(keys[key]["en"]) == set(values), entry.name
    for entry in FLOW.editable:
        assert f"proposals.field.{entry.name}" in keys
    review = placeholders(keys["proposals.review"]["en"])
    assert review == {entry.name.value for entry in FLOW.editable}


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("local government", "government"),
        ("administració local", "government"),
        ("adminstracio local", "government"),  # a typo, no accent
        ("regional bank", None),  # a word no label has
        ("local", None),  # one word: a typed answer would be read too eagerly
        ("o regional", "government"),
        ("universitat recerca", "academia"),
    ],
)
def test_a_typed_part_of_one_label_names_its_button(typed: str, expected: str | None) -> None:
    options = [
        (plain(f"proposals.sector.{sector}", lang), sector)
        for lang in ("en", "es", "ca")
        for sector in ("government", "company", "academia", "civil_society", "other")
    ]
    assert typed_choice(options, typed) == expected
