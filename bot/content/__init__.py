"""Event content: YAML files -> a validated, typed model."""

from bot.content.loader import ContentError, ContentInvalid, load_content
from bot.content.model import (
    Content,
    Event,
    Faq,
    Organization,
    OrganizationRole,
    ProposalFormat,
    Session,
    SessionKind,
    Text,
)

__all__ = [
    "Content",
    "ContentError",
    "ContentInvalid",
    "Event",
    "Faq",
    "Organization",
    "OrganizationRole",
    "ProposalFormat",
    "Session",
    "SessionKind",
    "Text",
    "load_content",
]
