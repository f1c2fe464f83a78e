"""The bot's services, created once at start-up: what any front end (the Telegram adapter in
handlers/, the Mini App's API, the tests) reaches the event assistant through."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.agenda import AgendaService
from bot.broadcasts import BroadcastService
from bot.content.store import ContentStore
from bot.content.versions import SharedContent
from bot.db import create_engine, session_factory
from bot.leases import worker_name
from bot.live import LiveService
from bot.privacy import PrivacyService
from bot.proposals import DraftConversation, ProposalQueries, ProposalReview, erase_requests
from bot.schema import ensure_schema
from bot.settings import Settings
from bot.users import UserService


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    content: ContentStore
    content_version: SharedContent
    users: UserService
    broadcasts: BroadcastService
    privacy: PrivacyService
    drafts: DraftConversation  # a speaking-slot request being filled in, and its submission
    reviews: ProposalReview  # decisions, undo, organizers' prompts, withdrawal
    requests: ProposalQueries  # requests read, listed, counted and exported
    agenda: AgendaService
    live: LiveService
    # This process among the workers (host:pid:random): what it claims carries this name.
    worker: str = field(default_factory=worker_name)


async def create_services(settings: Settings) -> Services:
    """Engine, content and index, created once at start-up.

    Raises ContentInvalid, or SchemaNotReady when the database needs `python main.py migrate`
    (a brand-new empty database is migrated right away: see bot/schema.py).
    """
    content = ContentStore(settings.content_dir)
    engine = create_engine(settings.database_url)
    try:
        await ensure_schema(engine)
        sessions = session_factory(engine)
        content_version = SharedContent(content, sessions)
        await content_version.publish()
    except BaseException:
        await engine.dispose()
        raise
    return Services(
        settings=settings,
        engine=engine,
        sessions=sessions,
        content=content,
        content_version=content_version,
        users=UserService(sessions),
        broadcasts=BroadcastService(sessions),
        privacy=PrivacyService(sessions, erase_requests, engine),
        drafts=DraftConversation(sessions, content),
        reviews=ProposalReview(sessions),
        requests=ProposalQueries(sessions, content),
        agenda=AgendaService(sessions, rate=settings.broadcast_rate),
        live=LiveService(sessions, content, settings),
    )
