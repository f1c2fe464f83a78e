"""The content version every worker follows: /reload on one worker reaches them all.

The content itself (and what is built from it: the answer index, the views) is the one thing
a worker keeps in memory. Which version of it is current lives in the database: /reload
bumps it, and each worker compares it with its own before handling an update, re-reading the
folder when it is behind.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.content.loader import ContentInvalid
from bot.content.model import Content
from bot.content.store import ContentStore
from bot.models import ContentVersion
from bot.models.base import utcnow

log = logging.getLogger(__name__)
ROW_ID = 1
_CURRENT = select(ContentVersion.version).where(ContentVersion.id == ROW_ID)


def folder_digest(directory: Path) -> str:
    """A digest of the YAML files of the content folder (names and bytes)."""
    digest = hashlib.sha256()
    for path in sorted(directory.glob("*.y*ml")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


class SharedContent:
    """A ContentStore that follows the version stored in the database."""

    def __init__(self, store: ContentStore, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.store = store
        self._sessions = sessions
        self.version = 0

    async def publish(self, *, bump: bool = False) -> int:
        """Record the content this worker has loaded as the current version.

        At start-up an unchanged folder keeps the version (workers started together do not
        make each other reload); a changed one, or /reload (`bump`), makes a new version.
        """
        digest = folder_digest(self.store.directory)
        async with self._sessions.begin() as session:
            row = await session.get(ContentVersion, ROW_ID, with_for_update=True)
            if row is None:
                row = ContentVersion(id=ROW_ID, version=1, digest=digest, updated_at=utcnow())
                session.add(row)
            elif bump or row.digest != digest:
                row.version, row.digest, row.updated_at = row.version + 1, digest, utcnow()
            self.version = row.version
        return self.version

    async def reload(self) -> Content:
        """/reload: re-read the folder (ContentInvalid keeps the old one) and tell every worker."""
        content = self.store.reload()
        await self.publish(bump=True)
        return content

    async def follow(self) -> None:
        """Before an update that names nobody: re-read the folder if another worker published
        a newer version (updates from a person read it with them: bot/visits.py)."""
        async with self._sessions() as session:
            current = await session.scalar(_CURRENT)
        self.follow_version(current)

    def follow_version(self, current: int | None) -> None:
        """Re-read the folder if `current` (read by the caller) is newer than this worker's."""
        if current is None or current == self.version:
            return
        try:
            self.store.reload()
        except ContentInvalid as error:
            # The worker that published it had valid files: this one's folder differs.
            log.error("Content version %s is invalid here; keeping the old: %s", current, error)
        self.version = current
