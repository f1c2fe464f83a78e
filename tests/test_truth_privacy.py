"""One data-retention promise, said the same by /privacy and the consent step; /forget and
/privacy agree on what happens to a request that was already accepted."""

from __future__ import annotations

import shutil
from pathlib import Path

from telegram.ext import Application

from devtools.local_api import LocalBotApi, LocalChat, LocalRequest, sent_texts
from handlers.app import build_application
from handlers.context import services_of
from handlers.runtime import running
from tests.conftest import CONTENT_DIR, ORGANIZER_ID, chat_for, make_settings
from tests.proposal_support import answer_until_review, text_of

PROMISE = {
    "en": "until the organizers delete the bot's data after the event",
    "es": "hasta que la organización borre los datos del bot después del evento",
    "ca": "fins que l'organització esborri les dades del bot després de l'esdeveniment",
}


async def consent_text(chat: LocalChat) -> str:
    """The consent step's message: answer the request's questions until it is asked."""
    await chat.send("/propose")
    await answer_until_review(chat)
    texts = [m["text"] for m in chat.bot_messages() if "🔒" in m.get("text", "")]
    assert texts, "the consent step was not shown"
    return texts[-1]


async def test_privacy_and_consent_make_the_same_promise(
    app: Application,  # type: ignore[type-arg]
    api: LocalBotApi,
) -> None:
    for user_id, lang in enumerate(("en", "es", "ca"), start=61):
        chat = chat_for(app, api, user_id=user_id, language_code=lang)
        privacy = sent_texts(await chat.send("/privacy"))[0]
        consent = await consent_text(chat)
        assert PROMISE[lang] in privacy and PROMISE[lang] in consent, lang
        assert "six months" not in consent and "seis meses" not in consent


async def test_the_promise_is_read_from_the_content(tmp_path: Path) -> None:
    folder = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, folder)
    event = folder / "event.yaml"
    text = event.read_text(encoding="utf-8")
    start = text.index("  data_retention:")
    end = text.index("  floor_call:")
    promise = "until 31 December, when the organizers delete the bot's data"
    event.write_text(
        text[:start] + f'  data_retention: "{promise}"\n' + text[end:], encoding="utf-8"
    )
    api = LocalBotApi()
    settings = make_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'p.sqlite3'}", CONTENT_DIR=str(folder)
    )
    async with running(build_application(settings, request=LocalRequest(api))) as app:
        chat = LocalChat(app, api)
        privacy = sent_texts(await chat.send("/privacy"))[0]
        assert promise in privacy
        assert promise in await consent_text(chat)


async def test_forget_and_privacy_agree_about_an_accepted_request(
    app: Application,  # type: ignore[type-arg]
    api: LocalBotApi,
) -> None:
    person = chat_for(app, api, user_id=64)
    await person.send("/propose")
    await answer_until_review(person)
    await person.press("Submit")
    services = services_of(app)
    (mine,) = await services.requests.of_person(64)
    await services.reviews.decide(mine.id, ORGANIZER_ID, "Olga", accept=True)

    privacy = sent_texts(await person.send("/privacy"))[0]
    assert "already accepted are withdrawn" in privacy
    assert "keep only the talk's title and summary" in privacy
    confirm = sent_texts(await person.send("/forget"))[0]
    assert "already accepted are withdrawn" in confirm
    done = text_of(await person.press("Yes, forget me"))
    assert "FS-0001" in done and "accepted" in done and "withdrawn" in done
    assert "title and summary" in done
    kept = await services.requests.get(mine.id)
    assert kept is not None and kept.state == "withdrawn" and kept.email is None
    assert kept.title and kept.summary  # what /privacy says is kept
