"""The content in use and its answer index, swapped together on reload."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.answers import KnowledgeIndex
from bot.content.loader import load_content
from bot.content.model import Content


@dataclass(frozen=True)
class Loaded:
    content: Content
    index: KnowledgeIndex


class ContentStore:
    """Holds the current content; a failed reload keeps the old one (and raises)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._loaded = self._load()

    def _load(self) -> Loaded:
        content = load_content(self.directory)
        return Loaded(content, KnowledgeIndex.from_content(content))

    @property
    def content(self) -> Content:
        return self._loaded.content

    @property
    def index(self) -> KnowledgeIndex:
        return self._loaded.index

    def reload(self) -> Content:
        """Re-read the folder; raises ContentInvalid and keeps the old content if it is broken."""
        self._loaded = self._load()
        return self._loaded.content
