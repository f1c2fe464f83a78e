"""Live questions to a panel through the real Application: ask, approve, vote, rank, hide with
a reason, forged and refused presses, moderators named or invited, feedback after the
session, /feedback and /export, /forget. SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io

from sqlalchemy import func, select
from telegram.ext import Application

from bot.models import LiveFeedback, LiveQuestion, LiveVote
from devtools.local_api import LocalBotApi, LocalChat, buttons_of, sent_texts
from handlers.context import services_of
from tests.conftest import ORGANIZER_ID, chat_for

PANEL = "panel-fibre"
OTHER_PANEL = "panel-libraries"


async def questions(app: Application) -> list[LiveQuestion]:  # type: ignore[type-arg]
    async with services_of(app).sessions() as session:
        return list(await session.scalars(select(LiveQuestion).order_by(LiveQuestion.id)))


async def votes(app: Application, question_id: int) -> int:  # type: ignore[type-arg]
    async with services_of(app).sessions() as session:
        query = select(func.count()).where(LiveVote.question_id == question_id)
        return int(await session.scalar(query) or 0)


async def open_questions(organizer: LocalChat, session_id: str = PANEL) -> None:
    calls = await organizer.send(f"/live {session_id}")
    assert "Moderating" in calls[-1].text
    await organizer.press("Open questions")


async def ask(
    chat: LocalChat, text: str, session_id: str = PANEL, *, anonymous: bool = False
) -> list[str]:
    await chat.press_data(f"lvs:{session_id}")
    await chat.press("✍️")
    if anonymous:
        await chat.press("Ask anonymously")
    calls = await chat.send(text)
    return sent_texts([c for c in calls if c.chat_id == chat.user_id])  # not the moderators


def button_labels(chat: LocalChat) -> list[str]:
    message = chat.last_bot_message(with_buttons=True)
    assert message is not None
    return [b["text"] for b in buttons_of(message)]


async def test_ask_approve_vote_and_rank(app: Application, api: LocalBotApi) -> None:  # type: ignore[type-arg]
    organizer = chat_for(app, api, ORGANIZER_ID, first_name="Org")
    asker = chat_for(app, api, 1, first_name="Ada")
    voter = chat_for(app, api, 2, first_name="Bo")
    # The session card offers it; closed until a moderator opens (the event has no date).
    card = await asker.press_data(f"ses:{PANEL}")
    assert "❓ Ask the panel" in [b["text"] for b in card[-1].buttons()]
    closed = await asker.press("Ask the panel")
    assert "closed for now" in closed[-1].text
    refused = await asker.press_data(f"lvq:{PANEL}")
    assert "closed" in sent_texts(refused)[0] and await questions(app) == []

    await open_questions(organizer)
    said = await ask(asker, "What about <b>rural</b> areas?", anonymous=True)
    assert "once a moderator approves" in said[-1]
    assert "What about &lt;b&gt;rural&lt;/b&gt; areas?" in said[-1]  # escaped, not markup
    # Moderated (a panel): nobody else sees it yet.
    room = await voter.press_data(f"lvs:{PANEL}")
    assert "rural" not in room[-1].text and "No questions yet" in room[-1].text

    # The moderator sees who asked, even anonymously, and approves.
    listing = await organizer.send(f"/live {PANEL}")
    assert "⏳" in listing[-1].text and "Ada (anonymous on the screen)" in listing[-1].text
    approved = await organizer.press("✅ 1")
    assert "Approved" in sent_texts(approved)

    room = await voter.press_data(f"lvs:{PANEL}")
    assert "rural" in room[-1].text and "Ada" not in room[-1].text  # anonymous to people
    voted = await voter.press("👍 1")
    assert "👍 Vote counted" in sent_texts(voted)
    (question,) = await questions(app)
    assert await votes(app, question.id) == 1
    assert "✅ 1 (1)" in button_labels(voter)
    again = await voter.press("✅ 1")  # pressed again: taken back
    assert "Vote taken back" in sent_texts(again)
    assert await votes(app, question.id) == 0
    await voter.press("👍 1")

    # The asker sees their rank, gets no 👍 on their own question, and a forged one fails.
    mine = await asker.press_data(f"lvs:{PANEL}")
    assert "Your question is number 1" in mine[-1].text
    assert not any(label.startswith("👍") for label in button_labels(asker))
    own = await asker.press_data(f"lvv:{PANEL}:{question.id}")
    assert "your own question" in sent_texts(own)[0]
    # One open question per person per session.
    again_ask = await asker.press_data(f"lvq:{PANEL}")
    assert "already have a question" in sent_texts(again_ask)[0]
    assert await votes(app, question.id) == 1 and len(await questions(app)) == 1


async def test_bad_questions_are_refused_and_change_nothing(
    app: Application,  # type: ignore[type-arg]
    api: LocalBotApi,
) -> None:
    organizer = chat_for(app, api, ORGANIZER_ID)
    asker = chat_for(app, api, 1)
    await open_questions(organizer, OTHER_PANEL)
    await asker.press_data(f"lvs:{OTHER_PANEL}")
    await asker.press("Ask a question")
    for text, answer in (
        ("   ", "empty"),
        ("x" * 10_000, "too long"),
        ("🙂🎉👍", "in words"),
        ("?!… 🙂", "in words"),
    ):
        said = sent_texts(await asker.send(text))
        assert answer in said[-1], (text[:20], said)
        assert await questions(app) == []
    # Still waiting for the question: a good one is taken (not read as a FAQ question).
    said = sent_texts(
        [c for c in await asker.send("How will small towns get fibre?") if c.chat_id == 1]
    )
    assert "Thank you" in said[-1]
    (question,) = await questions(app)
    assert question.text == "How will small towns get fibre?" and question.status == "pending"
    # The next text is a question for the FAQ again, not for the panel.
    await asker.send("where is the venue")
    assert len(await questions(app)) == 1
    # Votes on a closed session: refused, nothing counted.
    await organizer.press_data(f"lva:ap:{OTHER_PANEL}:{question.id}")
    await organizer.press_data(f"lvo:closed:{OTHER_PANEL}")
    voter = chat_for(app, api, 2)
    refused = await voter.press_data(f"lvv:{OTHER_PANEL}:{question.id}")
    assert "closed" in sent_texts(refused)[0]
    assert await votes(app, question.id) == 0


async def test_forged_and_foreign_moderation_has_no_effect(
    app: Application,  # type: ignore[type-arg]
    api: LocalBotApi,
) -> None:
    organizer = chat_for(app, api, ORGANIZER_ID)
    asker = chat_for(app, api, 1)
    stranger = chat_for(app, api, 5)
    await open_questions(organizer)
    await ask(asker, "Is 5G coverage planned for villages?")
    (question,) = await questions(app)

    # A non-moderator's hide, forged: refused.
    refused = await stranger.press_data(f"lva:hd:{PANEL}:{question.id}")
    assert "Only this session's moderators" in sent_texts(refused)[0]
    # Someone named moderator of ANOTHER session: refused here, and a forged session field
    # (their own session, this question) changes nothing either.
    named = await organizer.send(f"/moderator {OTHER_PANEL} 5")
    assert "now moderates" in named[-1].text
    refused = await stranger.press_data(f"lva:hd:{PANEL}:{question.id}")
    assert "Only this session's moderators" in sent_texts(refused)[0]
    forged = await stranger.press_data(f"lva:hd:{OTHER_PANEL}:{question.id}")
    assert "not in this session" in sent_texts(forged)[0]
    unknown = await stranger.press_data(f"lva:hd:{OTHER_PANEL}:999999")
    assert "not in this session" in sent_texts(unknown)[0]
    (question,) = await questions(app)
    assert question.status == "pending"
    # Not an organizer: cannot name moderators; a bad command says how.
    refused = await stranger.send(f"/moderator {PANEL} 6")
    assert "Only organizers" in refused[-1].text
    usage = await organizer.send("/moderator <b>")
    assert "/moderator <session>" in usage[-1].text  # plain text: no HTML parsing

    # A one-time invitation: the first to open it moderates; the second is told it is used.
    invite = await organizer.send(f"/moderator {PANEL} invite")
    link = invite[-1].text.split()[-1]
    token = link.split("start=")[1]
    invited = chat_for(app, api, 7)
    welcome = await invited.send(f"/start {token}")
    assert "you now moderate" in welcome[-1].text
    late = await chat_for(app, api, 8).send(f"/start {token}")
    assert "already been used" in late[-1].text
    # The invited moderator hides the question with a reason: the author is told (outbox).
    hidden = await invited.press_data(f"lva:hd:{PANEL}:{question.id}")
    assert "Hidden" in sent_texts(hidden)
    told = await invited.send("Off topic <i>for this panel</i>")
    author_notices = [c for c in told if c.method == "sendMessage" and c.chat_id == 1]
    assert len(author_notices) == 1
    assert "Off topic &lt;i&gt;for this panel&lt;/i&gt;" in author_notices[0].text
    (question,) = await questions(app)
    assert question.status == "hidden"
    # Hidden: the author may ask again.
    assert "Thank you" in (await ask(asker, "Then: what about fibre?"))[-1]


async def test_feedback_after_closing_then_feedback_and_export(
    app: Application,  # type: ignore[type-arg]
    api: LocalBotApi,
) -> None:
    organizer = chat_for(app, api, ORGANIZER_ID)
    asker = chat_for(app, api, 1, language_code="es")
    saver = chat_for(app, api, 2)
    bystander = chat_for(app, api, 3)
    await bystander.send("/start")
    await saver.press_data(f"ses:{PANEL}")
    await saver.press("Save")
    early = await saver.press_data(f"lvf:{PANEL}:5")  # before the session ended: refused
    assert "when it ends" in sent_texts(early)[0]
    before = await organizer.send("/export")  # no feedback yet: the requests' file alone
    assert len([c for c in before if c.method == "sendDocument"]) == 1
    await open_questions(organizer)
    await ask(asker, "¿Habrá fibra en los pueblos?")

    closed = await organizer.press("Close questions")
    requests = [c for c in closed if c.method == "sendMessage" and c.chat_id in (1, 2, 3)]
    assert sorted(c.chat_id for c in requests) == [1, 2]  # who asked, who saved it
    spanish = next(c for c in requests if c.chat_id == 1)
    assert "¿Qué te ha parecido" in spanish.text and len(spanish.buttons()) == 6
    # Closing again asks nobody twice.
    await organizer.press_data(f"lvo:open:{PANEL}")
    again = await organizer.press_data(f"lvo:closed:{PANEL}")
    assert not [c for c in again if c.method == "sendMessage" and c.chat_id in (1, 2)]

    await saver.press_data(f"lvf:{PANEL}:3")
    rated = await saver.press_data(f"lvf:{PANEL}:4")  # a second tap changes it
    assert "⭐⭐⭐⭐" in sent_texts(rated)[-1]
    await asker.press_data(f"lvf:{PANEL}:5")
    await saver.press("Add a comment")
    said = await saver.send("Great <b>panel</b>, more time for questions please")
    assert "Thank you for your comment" in said[-1].text
    async with services_of(app).sessions() as session:
        assert await session.scalar(select(func.count()).select_from(LiveFeedback)) == 2

    summary = await organizer.send("/feedback")
    assert "4.5 ⭐ (2 ratings)" in summary[-1].text
    assert "Great &lt;b&gt;panel&lt;/b&gt;" in summary[-1].text
    refused = await saver.send("/feedback")
    assert "moderators" in refused[-1].text
    exported = await organizer.send("/export")
    documents = [c for c in exported if c.method == "sendDocument"]
    assert len(documents) == 2  # the requests, then the feedback
    feedback_csv = next(iter(documents[1].files.values())).decode()
    rows = list(csv.DictReader(io.StringIO(feedback_csv)))
    assert sorted(r["stars"] for r in rows) == ["4", "5"]
    assert "2" not in {r.get("user_id") for r in rows}  # never who gave it
    assert not [c for c in await saver.send("/export") if c.method == "sendDocument"]


async def test_forget_erases_questions_votes_and_feedback(
    app: Application,  # type: ignore[type-arg]
    api: LocalBotApi,
) -> None:
    organizer = chat_for(app, api, ORGANIZER_ID)
    await organizer.send(f"/live {OTHER_PANEL}")
    await organizer.press("Moderation off")  # questions go up as they arrive
    await organizer.press("Open questions")
    ada, bo, cy = (
        chat_for(app, api, i, first_name=n) for i, n in ((1, "Ada"), (2, "Bo"), (3, "Cy"))
    )
    await ask(ada, "Question from Ada?", OTHER_PANEL)
    await ask(bo, "Question from Bo?", OTHER_PANEL)
    first, second = await questions(app)
    assert first.status == "approved"
    await bo.press_data(f"lvv:{OTHER_PANEL}:{first.id}")
    await cy.press_data(f"lvv:{OTHER_PANEL}:{first.id}")
    await ada.press_data(f"lvv:{OTHER_PANEL}:{second.id}")
    await cy.press_data(f"lvv:{OTHER_PANEL}:{second.id}")
    assert await votes(app, second.id) == 2

    await ada.send("/forget")
    await ada.press("Yes")
    remaining = await questions(app)
    assert [q.id for q in remaining] == [second.id]  # Ada's question is gone
    assert await votes(app, second.id) == 1  # and her vote on Bo's
    listing = await organizer.send(f"/live {OTHER_PANEL}")
    assert "Ada" not in listing[-1].text and "Bo" in listing[-1].text
    board = await services_of(app).live.board(OTHER_PANEL, None, moderator=False)
    assert [(q.author_name, q.votes) for q in board.questions] == [("Bo", 1)]


async def test_forget_leaves_no_live_row_naming_the_person(
    app: Application,  # type: ignore[type-arg]
    api: LocalBotApi,
) -> None:
    from tests.test_privacy import rows_naming

    person_id = 987_654_321
    organizer = chat_for(app, api, ORGANIZER_ID)
    person = chat_for(app, api, person_id, first_name="Dee")
    other = chat_for(app, api, 2)
    await organizer.send(f"/moderator {OTHER_PANEL} {person_id}")
    await open_questions(organizer)
    await ask(person, "A question from Dee?")
    await ask(other, "A question from someone else?")
    mine, theirs = await questions(app)
    await organizer.press_data(f"lva:ap:{PANEL}:{theirs.id}")
    await person.press_data(f"lvv:{PANEL}:{theirs.id}")
    await organizer.press_data(f"lva:hd:{PANEL}:{mine.id}")
    await organizer.press("without a reason")  # a notice to Dee, in the outbox
    await organizer.press_data(f"lvo:closed:{PANEL}")  # feedback requests, in the outbox
    await person.press_data(f"lvf:{PANEL}:2")
    await person.press("Add a comment")  # waiting for the comment's text
    privacy = await person.send("/privacy")
    assert "Questions to the panels" in privacy[-1].text
    assert await rows_naming(services_of(app), person_id)

    await person.send("/forget")
    await person.press("Yes")
    assert await rows_naming(services_of(app), person_id) == []
    assert await votes(app, theirs.id) == 0
    assert not await services_of(app).live.is_moderator(person_id, OTHER_PANEL)


async def test_a_command_or_cancel_ends_the_question_prompt(
    app: Application,  # type: ignore[type-arg]
    api: LocalBotApi,
) -> None:
    organizer = chat_for(app, api, ORGANIZER_ID)
    asker = chat_for(app, api, 1)
    await open_questions(organizer)
    await asker.press_data(f"lvs:{PANEL}")
    await asker.press("✍️")
    await asker.send("/menu")
    await asker.send("who are the partners?")  # a question for the bot again
    await asker.press_data(f"lvq:{PANEL}")
    cancelled = await asker.press("Cancel")
    assert "nothing was sent" in sent_texts(cancelled)[-1]
    await asker.send("what time does it start?")
    assert await questions(app) == []
    forged = await asker.press_data("lvn")  # "anonymously" with nothing being typed
    assert "Nothing is waiting" in sent_texts(forged)[0]
    # Closed while typing: told so once; the next text is a question for the bot again.
    await asker.press_data(f"lvq:{PANEL}")
    await organizer.press_data(f"lvo:closed:{PANEL}")
    late = sent_texts(await asker.send("Is there time for one more?"))
    assert "closed" in late[-1]
    after = sent_texts(await asker.send("Is there time for one more?"))
    assert "closed" not in after[-1]
    assert await questions(app) == []


async def test_the_moderators_list_stays_live(
    app: Application,  # type: ignore[type-arg]
    api: LocalBotApi,
) -> None:
    organizer = chat_for(app, api, ORGANIZER_ID)
    named = chat_for(app, api, 6)
    await organizer.send(f"/moderator {PANEL} 6")
    await open_questions(organizer)
    await named.send(f"/live {PANEL}")
    lists = {c.user_id: c for c in (organizer, named)}
    assert all("No questions yet" in c.last_bot_message()["text"] for c in lists.values())

    # A question arrives: both moderators' lists are edited in place, with who asked.
    ada = chat_for(app, api, 1, first_name="Ada")
    await ada.press_data(f"lvq:{PANEL}")
    calls = await ada.send("Where will fibre go first?")
    edits = [c for c in calls if c.method == "editMessageText" and c.chat_id in lists]
    assert sorted(c.chat_id for c in edits) == sorted(lists)
    for chat in lists.values():
        text = chat.last_bot_message()["text"]
        assert "Where will fibre go first?" in text and "Ada" in text and "⏳" in text
    # One moderator approves: the other's list follows.
    await organizer.press("✅ 1")
    followed = named.last_bot_message()["text"]
    assert "0 questions wait" in followed and "⏳ 1." not in followed
    (question,) = await questions(app)
    # Votes in a burst: the lists follow (one edit per list for each change that waits).
    for voter in range(20, 25):
        await chat_for(app, api, voter).press_data(f"lvv:{PANEL}:{question.id}")
    assert "👍 5" in named.last_bot_message()["text"]
    # A list deleted in its chat is no longer followed; nothing fails.
    message = named.last_bot_message()
    del api.messages[(named.chat["id"], message["message_id"])]
    await chat_for(app, api, 30).press_data(f"lvv:{PANEL}:{question.id}")
    assert [c for c, _, _ in await services_of(app).live.watchers(PANEL)] == [ORGANIZER_ID]
    assert "👍 6" in organizer.last_bot_message()["text"]
