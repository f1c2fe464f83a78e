"""Free-text questions: answers, "did you mean", honest fallbacks, group etiquette."""

from __future__ import annotations

import pytest

from bot.answers import KnowledgeIndex
from bot.content import load_content
from devtools.local_api import LocalChat, sent_texts
from tests.conftest import CONTENT_DIR, chat_for


@pytest.fixture(scope="module")
def index() -> KnowledgeIndex:
    return KnowledgeIndex.from_content(load_content(CONTENT_DIR))


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("¿cuántos empleados tiene Lumen Telecom?", "12.400"),  # answered in Spanish
        ("lumen telcom", "Founded in 1999"),
        ("how many people live in the river council towns", "86,000"),
        ("quants habitants té el consell del riu", "86.000"),
        ("what is otn", "300 small towns"),
    ],
)
async def test_typed_questions_get_the_fact(chat: LocalChat, question: str, expected: str) -> None:
    calls = await chat.send(question)
    assert expected in " ".join(sent_texts(calls))


async def test_socios_shows_the_partners(chat: LocalChat) -> None:
    calls = await chat.send("socios")
    assert any("Lumen Telecom" in b["text"] for c in calls for b in c.buttons())


async def test_off_topic_gets_kind_fallback_with_menu(chat: LocalChat) -> None:
    calls = await chat.send("what's the weather in Paris tomorrow?")
    (reply,) = [c for c in calls if c.method == "sendMessage"]
    assert "don't have an answer" in reply.text
    assert any("Programme" in b["text"] for b in reply.buttons())


async def test_user_text_is_escaped_when_echoed(chat: LocalChat) -> None:
    calls = await chat.send("<b>bold</b> & <script>x</script>")
    (reply,) = [c for c in calls if c.method == "sendMessage"]
    assert reply.params["parse_mode"] == "HTML"
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;" in reply.text
    assert "<script>" not in reply.text


async def test_did_you_mean_buttons_lead_to_the_answer(
    chat: LocalChat, index: KnowledgeIndex
) -> None:
    question = "break"
    result = index.answer(question)
    assert result.best is None and len(result.suggestions) >= 2
    calls = await chat.send(question)
    assert "Did you mean" in calls[-1].text
    choice = calls[-1].buttons()[0]
    assert choice["callback_data"].startswith("ans:")
    answer = await chat.press(choice["text"][:15])
    assert answer[-1].method == "editMessageText" and "Did you mean" not in answer[-1].text


async def test_photo_gets_a_friendly_text_only_answer(chat: LocalChat) -> None:
    photo = [{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}]
    calls = await chat.send_message(photo=photo)
    assert "only read text" in " ".join(sent_texts(calls))


async def test_very_long_message_is_declined_politely(chat: LocalChat) -> None:
    calls = await chat.send("lumen " * 200)
    assert "a bit long" in " ".join(sent_texts(calls))


async def test_group_chat_answers_only_when_addressed(app, api) -> None:  # type: ignore[no-untyped-def]
    member = chat_for(app, api, user_id=5, chat_id=-200)
    assert await member.send("who are the partners?") == []
    mention = await member.send(
        f"@{api.bot_user['username']} how many employees does lumen telecom have"
    )
    assert "12,400" in " ".join(sent_texts(mention))
    bot_message = member.last_bot_message()
    reply = await member.send("and what is OTN?", reply_to=bot_message)
    assert "Open Towns Network" in " ".join(sent_texts(reply))
    assert (
        await member.send_message(
            sticker={
                "file_id": "s",
                "file_unique_id": "s",
                "width": 1,
                "height": 1,
                "is_animated": False,
                "is_video": False,
                "type": "regular",
            }
        )
        == []
    )
    commands = await member.send("/help")
    assert "What I can do" in " ".join(sent_texts(commands))


async def test_small_talk_gets_a_friendly_word(chat: LocalChat) -> None:
    greeting = await chat.send("hola!")
    assert "Welcome to" in " ".join(sent_texts(greeting))
    thanks = await chat.send("moltes gràcies")
    assert "De res" in " ".join(sent_texts(thanks))  # thanked in Catalan, answered in Catalan
    thanks = await chat.send("thanks a lot")
    assert "You're welcome" in " ".join(sent_texts(thanks))
    for said in ("ok", "Okay!", "got it", "d'acord"):
        ack = " ".join(sent_texts(await chat.send(said)))
        assert "👍" in ack and "have an answer" not in ack, said
    thanks = await chat.send("ok, thanks!")  # an "ok" only when nothing else is said
    assert "You're welcome" in " ".join(sent_texts(thanks))
    question = await chat.send("hi, how many employees does lumen telecom have?")
    assert "12,400" in " ".join(sent_texts(question))  # a greeting does not hide a question
