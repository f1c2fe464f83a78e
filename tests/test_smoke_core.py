from bot.local_api import LocalChat, sent_texts


async def test_start_greets_with_menu(chat: LocalChat) -> None:
    calls = await chat.send("/start")
    texts = sent_texts(calls)
    assert any("Focus Sessions #1" in text for text in texts)
    assert chat.last_bot_message(with_buttons=True) is not None
