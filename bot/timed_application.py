"""An Application that logs one line per update: its kind, the handlers that ran, the time.

Each handler's callback is wrapped when it is added, so the line names the function that
really handled the update (also inside a ConversationHandler), without repeating PTB's own
dispatch logic.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Coroutine
from contextvars import ContextVar
from typing import Any

from telegram import Update
from telegram.ext import Application, ApplicationHandlerStop, BaseHandler, ConversationHandler

log = logging.getLogger("bot.updates")

# The handlers that ran for the update being processed (None outside process_update).
_handled_by: ContextVar[list[str] | None] = ContextVar("handled_by", default=None)
WRAPPED = "__focus_timed__"


def update_kind(update: object) -> str:
    """The update's kind ("message", "callback_query"...), or the type name of another object."""
    if isinstance(update, Update):
        return next((k for k in Update.ALL_TYPES if getattr(update, k, None)), "update")
    return type(update).__name__


def callback_name(callback: Callable[..., Any]) -> str:
    """`handlers.ask.question` for a function; the type name for other callables."""
    module = getattr(callback, "__module__", None) or ""
    qualname = getattr(callback, "__qualname__", None) or type(callback).__name__
    return f"{module}.{qualname}" if module else qualname


def record_handler(
    callback: Callable[..., Coroutine[Any, Any, Any]],
) -> Callable[..., Coroutine[Any, Any, Any]]:
    """Wrap a handler callback so the update's log line names it."""
    if getattr(callback, WRAPPED, False):
        return callback
    name = callback_name(callback)

    @functools.wraps(callback)
    async def recorded(update: object, context: Any) -> Any:
        handled_by = _handled_by.get()
        if handled_by is not None:
            handled_by.append(name)
        try:
            return await callback(update, context)
        except ApplicationHandlerStop:
            raise
        except Exception as error:
            if handled_by is not None:
                handled_by[handled_by.index(name)] = f"{name} (failed: {type(error).__name__})"
            raise

    setattr(recorded, WRAPPED, True)
    return recorded


def wrap_handler(handler: BaseHandler[Any, Any, Any]) -> None:
    """Wrap `handler`'s callback, and those nested in a ConversationHandler."""
    if isinstance(handler, ConversationHandler):
        nested = [*handler.entry_points, *handler.fallbacks]
        for state_handlers in handler.states.values():
            nested.extend(state_handlers)
        for inner in nested:
            wrap_handler(inner)
        return
    callback = getattr(handler, "callback", None)
    if callback is not None:
        handler.callback = record_handler(callback)


class TimedApplication(Application):  # type: ignore[type-arg]
    """Logs `update <id> <kind> -> <handlers> in <ms> ms` for every update it processes."""

    def add_handler(self, handler: BaseHandler[Any, Any, Any], group: int = 0) -> None:
        # Groups below 0 run for every update (tracking): naming them would say nothing.
        if group >= 0:
            wrap_handler(handler)
        super().add_handler(handler, group)

    async def process_update(self, update: object) -> None:
        handled_by: list[str] = []
        token = _handled_by.set(handled_by)
        started = time.perf_counter()
        try:
            await super().process_update(update)
        finally:
            _handled_by.reset(token)
            elapsed_ms = (time.perf_counter() - started) * 1000
            update_id = update.update_id if isinstance(update, Update) else "-"
            log.info(
                "update %s %s -> %s in %.0f ms",
                update_id,
                update_kind(update),
                ", ".join(handled_by) or "no handler",
                elapsed_ms,
            )
