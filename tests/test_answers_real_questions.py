"""Questions people really type (issue 12), asked through the real Application.

Long messages and several questions in one, other names, names inside sentences, the reply in
the language of the question, and the honest answers where the event page says nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bench.answer_engine import figures
from bot.answers import KnowledgeIndex
from bot.content import load_content
from bot.settings import Settings
from devtools.local_api import Call, LocalChat, sent_texts
from tests.conftest import SHIPPED_CONTENT_DIR, chat_for, make_settings

QUESTIONS = yaml.safe_load(
    (Path(__file__).parent / "data" / "questions.yaml").read_text(encoding="utf-8")
)
# A trial set written from the event page only by someone who never saw content/ (80 questions).
TRIAL_QUESTIONS = yaml.safe_load(
    (Path(__file__).parent / "data" / "trial_questions.yaml").read_text(encoding="utf-8")
)

# Stated thresholds (see README): answered correctly outright, and never a confident wrong
# answer to a question that must match nothing.
ACCURACY_THRESHOLD = 0.90

# A development set (issue 19): 132 questions written from the event page only, by someone who
# never saw content/ or the tests; the retrieval's thresholds were calibrated on it.
DEV_QUESTIONS = yaml.safe_load(
    (Path(__file__).parent / "data" / "dev_questions.yaml").read_text(encoding="utf-8")
)


@pytest.fixture
def settings(database_url: str) -> Settings:
    """This module measures the answer engine on the shipped content, not the tests' own."""
    return make_settings(database_url, CONTENT_DIR=str(SHIPPED_CONTENT_DIR))


@pytest.fixture(scope="module")
def index() -> KnowledgeIndex:
    return KnowledgeIndex.from_content(load_content(SHIPPED_CONTENT_DIR))


def reply(calls: list[Call]) -> Call:
    (message,) = [c for c in calls if c.method == "sendMessage"]
    return message


def callback_data(call: Call) -> list[str]:
    return [b.get("callback_data", "") for b in call.buttons()]


# ---------------------------------------------------------------- the question set's figures


@pytest.mark.parametrize("items", [QUESTIONS, TRIAL_QUESTIONS], ids=["main", "trial"])
def test_question_set_figures(index: KnowledgeIndex, items: list[dict[str, object]]) -> None:
    """The issue's goals on the whole set, and the same on the trial set: >= 95 % answered
    outright, every answerable question within one tap, and no confident wrong answer."""
    result = figures(index, items)
    assert result.direct_share >= 0.95
    assert result.one_tap_share >= 0.99
    assert result.confident_wrong == []


def test_dev_set_figures(index: KnowledgeIndex) -> None:
    """Questions written without seeing the content: the figures the engine reaches (the
    phrase matcher alone: 62.6 % direct, 73.2 % within one tap, 5 confident wrong)."""
    result = figures(index, DEV_QUESTIONS)
    assert result.direct_share >= 0.85
    assert result.one_tap_share >= 0.98
    assert result.confident_wrong == []


def test_a_wish_to_speak_in_a_long_message_leads_to_the_speaking_slot_request(
    index: KnowledgeIndex,
) -> None:
    assert index.answer(
        "I'm a PhD student researching the digital divide in rural Catalonia. Would it be "
        "possible to present some of my findings in one of the panels or side events?"
    ).keys == ["nav:propose"]
    assert index.answer("quiero ser ponente").keys == ["nav:propose"]
    assert index.answer("who are the speakers?").keys == ["faq:speakers"]


@pytest.mark.parametrize(
    "message",
    [
        "hola buenas, soy técnica en un ayuntamiento pequeño del Vallès y nos gustaría "
        "participar como ponentes para contar lo que hemos hecho con la fibra óptica en el "
        "pueblo, ¿se puede?",
        "Som un ajuntament petit i vam desplegar fibra a tots els veïnats disseminats del terme. "
        "Ens agradaria explicar-ho en alguna de les sessions, es pot fer?",
        "We're a tiny municipality and we did something pretty cool with fibre, could we tell "
        "people about it?",
        "com puc demanar un espai per parlar",
    ],
)
def test_a_wish_to_speak_in_any_language_or_length_leads_to_the_request(
    index: KnowledgeIndex, message: str
) -> None:
    assert index.answer(message).keys == ["nav:propose"]


@pytest.mark.parametrize(
    "message",
    [
        "can I talk to the organizers?",
        "me gustaría saber de qué van a hablar en los paneles",
        "can I see the presentations afterwards?",
        "who will speak at the panels?",
    ],
)
def test_words_about_speaking_without_the_wish_do_not_start_a_request(
    index: KnowledgeIndex, message: str
) -> None:
    assert not index.lexicon.wishes_to_speak(message)
    assert "nav:propose" not in index.answer(message).keys


def test_stop_words_come_from_the_stock_lists_but_keep_what_asks_or_names(
    index: KnowledgeIndex,
) -> None:
    stopwords = index.lexicon.stopwords
    assert {"the", "los", "els", "aquell", "nuestro"} <= stopwords  # stock en / es / ca
    assert not {"when", "where", "cuando", "donde", "amb"} & stopwords


def test_facts_said_only_in_answers_are_found(index: KnowledgeIndex) -> None:
    """Retrieval over what the content says, not only over how questions are phrased."""
    assert index.answer("quantes delegacions té la CE pel món").keys == ["faq:ec-delegations"]
    result = index.answer("el AMB desde cuándo existe")  # the phrases said "Huawei, 1987"
    assert [*result.keys, *(m.key for m in result.suggestions)][0] == "faq:amb-history"


def test_trial_set_is_the_trial() -> None:
    assert len(TRIAL_QUESTIONS) == 80
    # No confident answer (Wi-Fi and recordings are now answered: the page does not say).
    assert sum(1 for q in TRIAL_QUESTIONS if not q["expect"]) >= 3
    assert not {str(q["q"]).lower() for q in TRIAL_QUESTIONS} & {
        str(q["q"]).lower() for q in QUESTIONS
    }


def test_question_set_has_the_new_kinds() -> None:
    assert sum(1 for q in QUESTIONS if len(str(q["q"])) > 80) >= 8  # long messages
    assert sum(1 for q in QUESTIONS if q.get("also")) >= 5  # several facts asked together
    assert sum(1 for q in QUESTIONS if not q["expect"]) >= 35  # no confident answer


def test_several_facts_asked_together_come_in_one_answer(index: KnowledgeIndex) -> None:
    result = index.answer("How many employees does Huawei have and when was it founded?")
    assert set(result.keys) == {"faq:huawei-employees", "faq:huawei-founded"}


def test_a_lone_clear_candidate_is_answered_but_an_unknown_word_is_not(
    index: KnowledgeIndex,
) -> None:
    assert index.answer("what does DIBA mean").keys == ["org:diputacio-barcelona"]
    assert index.answer("bitcoin price").best is None
    assert index.answer("who is the CEO of Huawei").best is None


def test_the_language_of_a_question(index: KnowledgeIndex) -> None:
    guess = index.lexicon.guess_language
    assert guess("cómo me apunto") == "es"
    assert guess("com m'hi apunto") == "ca"
    assert guess("quins són els ponents") == "ca"
    assert guess("que hace la generalitat en el evento") == "es"
    assert guess("who organizes the event") == "en"
    assert guess("AMB") is None
    assert guess("hola") is None  # Spanish and Catalan alike


# ---------------------------------------------------------------- through the bot


async def test_amb_area_municipalities_and_people_in_one_reply(chat: LocalChat) -> None:
    calls = await chat.send(
        "what area, how many municipalities and how many people does the AMB have?"
    )
    text = reply(calls).text
    assert "636 km²" in text and "36 municipalities" in text and "3.2 million" in text


async def test_two_questions_one_reply(chat: LocalChat) -> None:
    text = reply(await chat.send("How many employees does Huawei have and when was it founded?"))
    assert "207,000" in text.text and "1987" in text.text


async def test_a_councillors_long_message_gets_what_the_sessions_cover(chat: LocalChat) -> None:
    calls = await chat.send(
        "Hi! I'm a councillor in a small town near Barcelona and we've been working on rural "
        "connectivity for a while.\nWhat exactly will the sessions cover?\n"
        "Is there anything on the digital divide?"
    )
    message = reply(calls)
    assert "connectivity and the digital divide" in message.text
    assert "Bridging the digital divide" in message.text
    assert "don't have an answer" not in message.text
    assert callback_data(message).count("menu") == 1  # one way back, not one per answer


async def test_when_and_where_in_one_sentence(chat: LocalChat) -> None:
    text = reply(await chat.send("When is it and where? I'd like to come with colleagues.")).text
    assert "date of Focus Sessions #1 has not been announced" in text
    assert "venue of Focus Sessions #1 has not been announced" in text


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Who is ESADE and what are they doing at Focus Sessions?", "ESADE"),
        ("what does OASC stand for?", "Open &amp; Agile Smart Cities"),
        ("what does AMB stand for", "Àrea Metropolitana de Barcelona"),
        ("EC", "European Commission"),
        ("DIBA?", "Diputació de Barcelona"),
        ("L'H", "Hospitalet"),
        ("what is the Barcelona Provincial Council", "Diputació de Barcelona"),
        ("sidevents?", "Side events"),
        ("where is it held?", "venue of Focus Sessions #1 has not been announced"),
        ("is it online or in person?", "whether it can be followed online"),
    ],
)
async def test_other_names_typos_and_names_in_sentences(
    chat: LocalChat, question: str, expected: str
) -> None:
    text = reply(await chat.send(question)).text
    assert expected in text
    assert "Did you mean" not in text and "don't have an answer" not in text


async def test_topics_and_audience_do_not_list_side_event_organizers(chat: LocalChat) -> None:
    topics = reply(await chat.send("What topics will be discussed?")).text
    assert "connectivity" in topics and "digital divide" in topics
    audience = reply(await chat.send("who is this event for")).text
    assert "industry &amp; public sector leaders" in audience
    assert "ESADE" not in audience and "URBACT" not in audience


async def test_who_organizes_the_event_is_answered_honestly(chat: LocalChat) -> None:
    text = reply(await chat.send("who organizes the event")).text
    assert "does not say who organizes Focus Sessions #1" in text
    assert "partners" in text and "side events" in text


@pytest.mark.parametrize("question", ["speakers", "who's going to speak?", "ponentes"])
async def test_speakers_are_not_announced_and_no_request_starts(
    chat: LocalChat, question: str
) -> None:
    message = reply(await chat.send(question))
    assert "not been announced" in message.text or "aún no se han anunciado" in message.text
    assert "fl:go" in callback_data(message)  # the speaking-slot request, one tap away
    # No request was started: the next message is a question again, not the step's answer.
    assert "207,000" in reply(await chat.send("how many employees does huawei have")).text


async def test_quins_son_els_ponents_in_catalan(chat: LocalChat) -> None:
    message = reply(await chat.send("quins són els ponents"))
    assert "Els ponents encara no s'han anunciat" in message.text
    assert "lang:ca" in callback_data(message)


async def test_what_panels_are_there_lists_the_panels_only(chat: LocalChat) -> None:
    message = reply(await chat.send("what panels are there"))
    assert "Expert panels" in message.text
    assert "Bridging the digital divide" in message.text
    assert "lunch" not in message.text.lower() and "ESADE side event" not in message.text


async def test_a_did_you_mean_button_leads_to_the_panels(chat: LocalChat) -> None:
    calls = await chat.press_data("ans:nav:panels")
    assert "Expert panels" in calls[-1].text


@pytest.mark.parametrize(
    ("question", "lang", "expected"),
    [
        ("cómo me apunto", "es", "La página del evento todavía no da detalles de inscripción"),
        ("com m'hi apunto", "ca", "La pàgina de l'esdeveniment encara no dona detalls"),
        ("ESADE organiza algo?", "es", "ESADE</b> · Organizador de actos paralelos"),
        (
            "que hace la generalitat en el evento",
            "es",
            "Gobierno de Cataluña (SmartCAT)</b> · Socio",
        ),
        ("temas del evento", "es", "La página del evento cita estos temas"),
    ],
)
async def test_spanish_and_catalan_questions_get_answers_in_their_language(
    chat: LocalChat, question: str, lang: str, expected: str
) -> None:
    message = reply(await chat.send(question))
    assert expected in message.text
    assert "URBACT" not in message.text  # "apunto" is not "Point"
    assert f"lang:{lang}" in callback_data(message)


async def test_the_language_offer_switches_the_setting(chat: LocalChat) -> None:
    await chat.send("cómo me apunto")
    await chat.press("español")
    # The setting is Spanish now: a Spanish question gets no offer, and /help is in Spanish.
    message = reply(await chat.send("¿cuántos empleados tiene Huawei?"))
    assert "207.000" in message.text
    assert not [d for d in callback_data(message) if d.startswith("lang:")]
    assert "Qué puedo hacer" in " ".join(sent_texts(await chat.send("/help")))


async def test_an_english_question_in_the_persons_language_gets_no_offer(
    chat: LocalChat,
) -> None:
    message = reply(await chat.send("how many employees does huawei have"))
    assert not [d for d in callback_data(message) if d.startswith("lang:")]


@pytest.mark.parametrize(
    ("question", "said"),
    [
        ("is there wifi at the venue?", "does not say whether there will be Wi-Fi"),
        ("¿se grabarán las sesiones?", "no dice si las sesiones se grabarán"),
        ("hi haurà certificat d'assistència?", "no esmenta certificats"),
        ("will lunch be provided, is there catering?", "does not say whether food"),
        ("is the venue wheelchair accessible?", "no accessibility information"),
        ("what's the deadline for speaking requests?", "does not give a deadline"),
    ],
)
async def test_what_the_page_does_not_say_is_answered_as_not_said(
    chat: LocalChat, question: str, said: str
) -> None:
    assert said in reply(await chat.send(question)).text


@pytest.mark.parametrize(
    "question",
    [
        "who is the CEO of Huawei",
        "¿hay traducción simultánea?",
        "hi ha servei de guarderia?",
    ],
)
async def test_what_the_source_cannot_answer_gets_no_confident_answer(
    chat: LocalChat, question: str
) -> None:
    texts = " ".join(sent_texts(await chat.send(question)))
    assert any(
        phrase in texts
        for phrase in (
            "don't have an answer",
            "no tengo respuesta",
            "no tinc resposta",
            "Did you mean",
            "Te refieres",
            "Et refereixes",
        )
    ), texts


async def test_a_short_question_is_answered_in_its_language_or_the_persons_telegram_language(
    app,
    api,  # type: ignore[no-untyped-def]
) -> None:
    """Issue 22, item 14: someone whose Telegram is in Spanish but who reads the bot in English
    writes "que es la diputación de barcelona" (clearly Spanish) and "hola" (Spanish or
    Catalan: their Telegram language decides), and gets Spanish both times."""
    person = chat_for(app, api, user_id=4242, language_code="es")
    await person.send("/language")
    await person.press("English")
    question = reply(await person.send("que es la diputación de barcelona"))
    assert "Diputació de Barcelona" in question.text
    assert "lang:es" in callback_data(question)  # answered in Spanish, with the offer to switch
    hello = " ".join(sent_texts(await person.send("hola")))
    assert "Te damos la bienvenida" in hello
    # Someone whose Telegram is in English keeps English for the same "hola".
    english = chat_for(app, api, user_id=4343, language_code="en")
    assert "Welcome to" in " ".join(sent_texts(await english.send("hola")))


def test_question_set_is_big_and_varied() -> None:
    assert len(QUESTIONS) >= 60
    assert sum(1 for q in QUESTIONS if not q["expect"]) >= 15


def test_question_set_accuracy(index: KnowledgeIndex) -> None:
    answerable = [q for q in QUESTIONS if q["expect"]]
    right = [
        q["q"]
        for q in answerable
        if (best := index.answer(q["q"]).best) and best.key in q["expect"]
    ]
    assert len(right) / len(answerable) >= ACCURACY_THRESHOLD


def test_off_topic_questions_get_no_confident_answer(index: KnowledgeIndex) -> None:
    wrong = [
        (q["q"], a.best)
        for q in QUESTIONS
        if not q["expect"]
        if (a := index.answer(q["q"])).best is not None
    ]
    assert wrong == []
