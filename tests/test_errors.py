"""The one error handler: the person hears something kind, admins are alerted sparingly."""

from __future__ import annotations

import pytest

from devtools.local_api import LocalBotApi, LocalChat, sent_texts
from handlers import answer_views
from tests.conftest import ADMIN_ID


def explode(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError("the index fell over")


async def test_failure_apologizes_and_alerts_admins_once_a_minute(
    chat: LocalChat, api: LocalBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(answer_views, "render_answer", explode)
    first = await chat.send("lumen telecom")
    assert "something went wrong" in " ".join(sent_texts(first))
    alerts = [c for c in first if c.chat_id == ADMIN_ID]
    assert len(alerts) == 1 and "RuntimeError" in alerts[0].text
    second = await chat.send("lumen telecom")
    assert "something went wrong" in " ".join(sent_texts(second))
    assert [c for c in second if c.chat_id == ADMIN_ID] == []  # muted for a minute
    monkeypatch.undo()
    recovered = await chat.send("lumen telecom")
    assert "Founded in 1999" in " ".join(sent_texts(recovered))
