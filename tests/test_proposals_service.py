"""The speaking-slot services on their own (bot/proposals/): validation, steps, submit once,
decisions, forgetting, export."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import proposal_flow
from bot.best_spot import rank_sessions
from bot.content.store import ContentStore
from bot.db import create_engine, session_factory
from bot.i18n import catalog
from bot.models import Base, Proposal, ProposalDraft, ProposalEvent
from bot.privacy import PrivacyService
from bot.proposals import (
    ERROR_CODES,
    MAX_OPEN_PER_PERSON,
    DraftConversation,
    InvalidAnswer,
    NoDraft,
    ProposalNotFound,
    ProposalQueries,
    ProposalReview,
    ProposalState,
    StaleButton,
    Step,
    TooManyOpen,
    WrongState,
    erase_requests,
    is_active,
)
from tests.conftest import CONTENT_DIR

PERSON = 501
ORGANIZER = 800
SUMMARY = (
    "We connected forty rural villages with community broadband and trained local volunteers "
    "to run the network."
)


@pytest.fixture(scope="module")
def store() -> ContentStore:
    return ContentStore(CONTENT_DIR)


@dataclass(frozen=True)
class Requests:
    """The services as bot/services.py wires them."""

    sessions: async_sessionmaker[AsyncSession]
    drafts: DraftConversation
    reviews: ProposalReview
    requests: ProposalQueries
    privacy: PrivacyService


def requests_on(sessions: async_sessionmaker[AsyncSession], store: ContentStore) -> Requests:
    return Requests(
        sessions,
        DraftConversation(sessions, store),
        ProposalReview(sessions),
        ProposalQueries(sessions, store),
        PrivacyService(sessions, erase_requests),
    )


@pytest.fixture
async def service(database_url: str, store: ContentStore) -> AsyncIterator[Requests]:
    engine = create_engine(database_url)
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    service = requests_on(session_factory(engine), store)
    yield service
    await engine.dispose()


async def answer(service: Requests, user_id: int, text: str) -> ProposalDraft:
    """A typed answer, as the person's text reaches the draft (handlers/propose.py)."""
    replied = await service.drafts.reply_if_active(user_id, text)
    assert replied is not None
    return replied[0]


async def fill(service: Requests, user_id: int = PERSON, **answers: str) -> ProposalDraft:
    """Answer every step up to the summary, with `answers` overriding the defaults."""
    values = {
        "name": "Ana Pérez",
        "organization": "Ajuntament de Vic",
        "sector": "government",
        "email": "ana@example.org",
        "format": "short-talk",
        "title": "Community broadband in rural villages",
        "summary": SUMMARY,
        "link": "skip",
        "consent": "yes",
        "spot": "panel-fibre",
        **answers,
    }
    draft, _ = await service.drafts.start_or_resume(user_id)
    for step in Step:
        if step is Step.REVIEW:
            break
        value = values[step.value]
        if step in {Step.SECTOR, Step.FORMAT, Step.CONSENT, Step.SPOT} or value == "skip":
            draft = await service.drafts.choose(user_id, step.value, value)
        else:
            draft = await answer(service, user_id, value)
    assert draft.step == Step.REVIEW.value
    return draft


async def submit(service: Requests, user_id: int = PERSON, **answers: str) -> Proposal:
    draft = await fill(service, user_id, **answers)
    return await service.drafts.submit(user_id, draft.id, "en")


async def count(service: Requests, model: type[Base]) -> int:
    async with service.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize(
    ("step_answers", "bad", "code"),
    [
        ([], "A", "name_length"),
        (["Ana"], "x" * 151, "organization_length"),
        (["Ana", "Org"], "ana@example.org", "use_buttons"),  # the sector is a button
    ],
)
async def test_text_answers_are_validated(
    service: Requests, step_answers: list[str], bad: str, code: str
) -> None:
    await service.drafts.start_or_resume(PERSON)
    for earlier in step_answers:
        await answer(service, PERSON, earlier)
    before = await service.drafts.draft_of(PERSON)
    with pytest.raises(InvalidAnswer) as error:
        await answer(service, PERSON, bad)
    assert error.value.code == code
    after = await service.drafts.draft_of(PERSON)
    assert before is not None and after is not None and after.step == before.step


@pytest.mark.parametrize(
    "address",
    ["ana", "ana@", "ana@example", "ana example@x.org", "ana@@x.org", ".ana@x.org", "a..b@x.org"],
)
async def test_bad_email_is_refused(service: Requests, address: str) -> None:
    await service.drafts.start_or_resume(PERSON)
    await answer(service, PERSON, "Ana")
    await answer(service, PERSON, "Org")
    await service.drafts.choose(PERSON, "sector", "company")
    with pytest.raises(InvalidAnswer) as error:
        await answer(service, PERSON, address)
    assert error.value.code == "email_invalid"


async def test_email_domain_is_lower_cased_and_link_gets_https(service: Requests) -> None:
    draft = await fill(service, email="Ana.P+focus@Example.ORG", link="www.example.org/project")
    assert draft.email == "Ana.P+focus@example.org"
    assert draft.link == "https://www.example.org/project"


@pytest.mark.parametrize(
    ("field", "bad", "code"),
    [
        ("title", "t" * 121, "title_length"),
        ("summary", "Too short to say anything.", "summary_too_short"),
        ("summary", "s" * 1001, "summary_too_long"),
        ("link", "ftp://example.org/file", "link_invalid"),
        ("link", "my website", "link_invalid"),
    ],
)
async def test_length_and_link_rules(service: Requests, field: str, bad: str, code: str) -> None:
    await fill(service)
    await service.drafts.edit(PERSON, field)
    with pytest.raises(InvalidAnswer) as error:
        await answer(service, PERSON, bad)
    assert error.value.code == code
    draft = await service.drafts.draft_of(PERSON)
    assert draft is not None and draft.step == field  # the same question again


async def test_back_and_edit_return_where_expected(service: Requests) -> None:
    draft, _ = await service.drafts.start_or_resume(PERSON)
    await answer(service, PERSON, "Ana")
    draft = await service.drafts.back(PERSON, "organization")
    assert draft.step == "name" and draft.name == "Ana"  # nothing typed is lost
    with pytest.raises(StaleButton):
        await service.drafts.back(PERSON, "organization")  # a button from the step we left
    draft = await fill(service)
    draft = await service.drafts.edit(PERSON, "title")
    assert draft.step == "title" and draft.editing
    draft = await answer(service, PERSON, "A new title")
    assert draft.step == "review" and draft.title == "A new title" and not draft.editing
    await service.drafts.edit(PERSON, "sector")
    draft = await service.drafts.back(PERSON, "sector")
    assert draft.step == "review" and draft.sector == "government"


async def test_forged_choices_change_nothing(service: Requests) -> None:
    await service.drafts.start_or_resume(PERSON)
    await answer(service, PERSON, "Ana")
    await answer(service, PERSON, "Org")
    for step, value in [
        ("sector", "pirates"),
        ("format", "keynote"),
        ("consent", "yes"),
        ("spot", "coffee-break"),
    ]:
        with pytest.raises(StaleButton):
            await service.drafts.choose(PERSON, step, value)
    draft = await service.drafts.draft_of(PERSON)
    assert draft is not None and draft.step == "sector" and draft.sector is None
    await service.drafts.cancel(PERSON)
    await fill(service)
    await service.drafts.edit(PERSON, "spot")
    with pytest.raises(StaleButton):
        await service.drafts.choose(PERSON, "spot", "coffee-break")  # not open to contributions
    with pytest.raises(StaleButton):
        await service.drafts.edit(PERSON, "consent")


async def test_submit_consumes_the_draft_once(service: Requests) -> None:
    draft = await fill(service)
    proposal = await service.drafts.submit(PERSON, draft.id, "es")
    assert proposal.reference == f"FS-{proposal.id:04d}" and len(proposal.reference) == 7
    assert proposal.state == "submitted" and proposal.session_id == "panel-fibre"
    # Again (pressed twice, or handled again after a kill): the same request, nothing new.
    again = await service.drafts.submit(PERSON, draft.id, "es")
    assert again.id == proposal.id
    with pytest.raises(NoDraft):  # a draft that was never submitted
        await service.drafts.submit(PERSON, draft.id + 1, "es")
    assert await count(service, Proposal) == 1
    assert await count(service, ProposalDraft) == 0
    stored = await service.requests.get(proposal.id)
    assert stored is not None and [(e.state, e.actor_id) for e in stored.events] == [
        ("submitted", PERSON)
    ]


async def test_stale_summary_of_an_older_draft_is_refused(service: Requests) -> None:
    old = await fill(service)
    await service.drafts.cancel(PERSON)
    await fill(service)
    with pytest.raises(StaleButton):
        await service.drafts.submit(PERSON, old.id, "en")
    assert await count(service, Proposal) == 0


async def test_at_most_five_open_requests(service: Requests) -> None:
    proposals = [await submit(service) for _ in range(MAX_OPEN_PER_PERSON)]
    with pytest.raises(TooManyOpen):
        await service.drafts.start_or_resume(PERSON)
    await service.reviews.decide(proposals[0].id, ORGANIZER, "Org", accept=True)
    with pytest.raises(TooManyOpen):
        await service.drafts.start_or_resume(PERSON)  # accepted still counts as open
    await service.reviews.decide(proposals[1].id, ORGANIZER, "Org", accept=False)
    assert (await submit(service)).state == "submitted"


async def test_the_open_request_limit_holds_on_another_worker(
    service: Requests, store: ContentStore
) -> None:
    for _ in range(MAX_OPEN_PER_PERSON):
        await submit(service)
    other_worker = requests_on(service.sessions, store).drafts
    with pytest.raises(TooManyOpen):
        await other_worker.start_or_resume(PERSON)
    await other_worker.start_or_resume(PERSON + 1)  # someone else is not concerned


async def test_decide_once_and_withdraw_rules(service: Requests) -> None:
    first, second = await submit(service), await submit(service)
    decided = await service.reviews.decide(first.id, ORGANIZER, "Olga", accept=True)
    assert decided.state == "accepted"
    assert [(e.state, e.actor_id, e.actor_name) for e in decided.events][-1] == (
        "accepted",
        ORGANIZER,
        "Olga",
    )
    with pytest.raises(WrongState) as error:
        await service.reviews.decide(first.id, ORGANIZER, "Olga", accept=False)
    assert error.value.state == "accepted"
    with pytest.raises(WrongState):
        await service.reviews.withdraw(first.id, PERSON)
    with pytest.raises(ProposalNotFound):
        await service.reviews.withdraw(second.id, PERSON + 1)  # not theirs
    with pytest.raises(ProposalNotFound):
        await service.reviews.decide(9999, ORGANIZER, "Olga", accept=True)
    withdrawn = await service.reviews.withdraw(second.id, PERSON)
    assert withdrawn.state == "withdrawn"
    with pytest.raises(WrongState):
        await service.reviews.decide(second.id, ORGANIZER, "Olga", accept=True)
    counts = await service.requests.counts()
    assert counts[ProposalState.ACCEPTED] == 1 and counts[ProposalState.WITHDRAWN] == 1


async def test_forget_person_withdraws_and_erases(service: Requests) -> None:
    open_one, accepted, declined = (
        await submit(service),
        await submit(service),
        await submit(service),
    )
    await service.reviews.decide(accepted.id, ORGANIZER, "Olga", accept=True)
    await service.reviews.decide(declined.id, ORGANIZER, "Olga", accept=False)
    other = await submit(service, user_id=PERSON + 1)
    await service.drafts.start_or_resume(PERSON)
    await answer(service, PERSON, "Ana")

    refs = await service.privacy.forget_everything(PERSON)

    assert refs == [open_one.reference, accepted.reference]
    assert await service.drafts.draft_of(PERSON) is None
    assert await service.requests.of_person(PERSON) == []
    for proposal_id in (open_one.id, accepted.id, declined.id):
        stored = await service.requests.get(proposal_id)
        assert stored is not None and stored.forgotten_at is not None
        assert (stored.user_id, stored.name, stored.organization, stored.email, stored.link) == (
            None,
            None,
            None,
            None,
            None,
        )
        assert PERSON not in {e.actor_id for e in stored.events}
    assert (await service.requests.get(open_one.id)).state == "withdrawn"  # type: ignore[union-attr]
    assert (await service.requests.get(declined.id)).state == "declined"  # type: ignore[union-attr]
    kept = await service.requests.get(other.id)
    assert kept is not None and kept.name == "Ana Pérez" and kept.user_id == PERSON + 1
    async with service.sessions() as session:
        organizer_events = await session.scalar(
            select(func.count()).select_from(ProposalEvent).where(ProposalEvent.actor_id == 800)
        )
    assert organizer_events == 2  # who decided is kept
    assert await service.privacy.forget_everything(PERSON) == []


async def test_export_csv_has_every_request_and_defuses_formulas(service: Requests) -> None:
    first = await submit(service, name='=HYPERLINK("http://evil")', title="Ünïcode title")
    await service.reviews.decide(first.id, ORGANIZER, "Olga", accept=True)
    await submit(service, user_id=PERSON + 1, spot="none")
    data = await service.requests.export_csv()
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: spreadsheets read the accents
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [r["reference"] for r in rows] == ["FS-0001", "FS-0002"]
    assert rows[0]["name"].startswith("'=")
    assert rows[0]["title"] == "Ünïcode title" and rows[0]["state"] == "accepted"
    assert rows[0]["last_change_by"] == "Olga"
    assert rows[0]["session_title"] == "Fibre along the valley"
    assert rows[1]["session_id"] == "" and rows[1]["email"] == "ana@example.org"


async def test_dormant_draft_is_not_active(service: Requests) -> None:
    draft, _ = await service.drafts.start_or_resume(PERSON)
    assert is_active(draft)
    later = draft.updated_at + dt.timedelta(hours=13)
    assert await service.drafts.active_draft(PERSON, now=later) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Fibre broadband for rural villages and mountain territories", "panel-fibre"),
        ("Inclusive digital policies for older people", "panel-libraries"),
        ("Reducir la brecha digital de las personas mayores", "panel-libraries"),
        ("Training shop owners and local businesses in digital skills", "panel-skills"),
        ("Formación en competencias digitales para pequeños comercios", "panel-skills"),
        ("Open APIs and shared data models for city services", "side-event-otn"),
        ("Sensors compartits i dades obertes entre municipis", "side-event-otn"),
        ("A network of cities exchanging good practices in urban policy", "side-event-civic"),
        ("Replicating a small pilot at a bigger scale: bottom-up change", "panel-next-towns"),
    ],
)
def test_best_spot_picks_the_obvious_session(
    store: ContentStore, text: str, expected: str
) -> None:
    ranked = rank_sessions(store.content, text)
    assert len(ranked) == 3 and ranked[0].id == expected
    assert all(s.open_for_contributions for s in ranked)


def test_best_spot_without_a_match_keeps_programme_order(store: ContentStore) -> None:
    ranked = rank_sessions(store.content, "I like turtles and cooking pasta")
    open_sessions = [s for s in store.content.sessions if s.open_for_contributions]
    assert ranked == open_sessions[:3]


def test_every_error_has_a_message() -> None:
    keys = catalog()
    assert [c for c in ERROR_CODES if f"proposals.error.{c}" not in keys] == []
    assert all(f"proposals.state.{s.value}" in keys for s in ProposalState)


async def test_forgetting_an_organizer_erases_their_name_from_decisions(
    service: Requests,
) -> None:
    proposal = await submit(service)
    organizer = 4242
    await service.reviews.decide(proposal.id, organizer, "Olga Organizer", accept=True)
    assert await service.privacy.forget_everything(organizer) == []
    async with service.sessions() as session:
        events = (await session.scalars(select(ProposalEvent))).all()
    assert all(e.actor_id != organizer and e.actor_name != "Olga Organizer" for e in events)
    stored = await service.requests.get(proposal.id)
    assert stored is not None and stored.state == "accepted"  # the decision itself stays


async def test_a_typed_text_is_read_before_the_draft_is_locked(
    service: Requests, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answer engine (`is_question`) and the fuzzy match of a typed button label run
    while no transaction holds the draft's row; the answer is then saved under the lock."""
    locked = False
    draft_session = DraftConversation._draft_session

    @asynccontextmanager
    async def watched(
        self: DraftConversation, user_id: int
    ) -> AsyncIterator[tuple[AsyncSession, ProposalDraft | None]]:
        nonlocal locked
        async with draft_session(self, user_id) as opened:
            locked = True
            try:
                yield opened
            finally:
                locked = False

    monkeypatch.setattr(DraftConversation, "_draft_session", watched)
    reads: list[tuple[str, bool]] = []
    choice = proposal_flow.typed_choice

    def typed_choice(*args: Any, **kwargs: Any) -> str | None:
        reads.append(("button", locked))
        return choice(*args, **kwargs)

    def is_question(step: Step) -> bool:
        reads.append(("question", locked))
        return False

    monkeypatch.setattr(proposal_flow, "typed_choice", typed_choice)
    await service.drafts.start_or_resume(PERSON)
    await answer(service, PERSON, "Ana")
    await answer(service, PERSON, "Org")
    replied = await service.drafts.reply_if_active(PERSON, "Compnay", is_question)
    assert replied is not None and replied[0].sector == "company"
    assert replied[0].step == "email"
    assert reads == [("question", False), ("button", False)]


async def test_a_text_read_against_a_step_left_meanwhile_is_read_again(
    service: Requests, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between the unlocked read and the lock another update moved the draft back a step:
    the text is read again against the step it now answers, never saved by a stale reading."""
    draft_session = DraftConversation._draft_session
    moved = False

    @asynccontextmanager
    async def another_update_first(
        self: DraftConversation, user_id: int
    ) -> AsyncIterator[tuple[AsyncSession, ProposalDraft | None]]:
        nonlocal moved
        if not moved:
            moved = True
            await service.drafts.back(user_id, "sector")  # committed by "another worker"
        async with draft_session(self, user_id) as opened:
            yield opened

    await service.drafts.start_or_resume(PERSON)
    await answer(service, PERSON, "Ana")
    await answer(service, PERSON, "Org")
    monkeypatch.setattr(DraftConversation, "_draft_session", another_update_first)
    replied = await service.drafts.reply_if_active(PERSON, "Company")
    assert replied is not None
    draft, _ = replied
    # Read at the sector step, "Company" named a button; saved at the organization step.
    assert (draft.step, draft.organization, draft.sector) == ("sector", "Company", None)


async def test_a_request_read_without_its_history_never_loads_it_behind_the_back(
    service: Requests,
) -> None:
    """Proposal.events is lazy="raise": a list that does not load the history cannot show it
    by accident (an async session cannot load it on access), the card's read does load it."""
    await submit(service)
    (listed,) = await service.requests.of_person(PERSON)
    with pytest.raises(InvalidRequestError, match="lazy='raise'"):
        _ = listed.events
    shown = await service.requests.get(listed.id)
    assert shown is not None and [e.state for e in shown.events] == ["submitted"]
