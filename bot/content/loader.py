"""Read `content/*.yaml` into a `Content`, or a list of errors an organizer can act on.

Each error names the file, the line where possible, and the field path in plain words, e.g.
`programme.yaml, line 14: sessions → item 3 (id "panel-2") → start: "25:00" is not a valid
time: write it as HH:MM, for example "09:30"`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from bot.content.facts import stale_fields
from bot.content.model import Content, EventFile, FaqFile, OrganizationsFile, ProgrammeFile
from bot.i18n import DEFAULT_LANGUAGE, plain

Path_ = tuple[str | int, ...]

FILES: dict[str, type[BaseModel]] = {
    "event.yaml": EventFile,
    "programme.yaml": ProgrammeFile,
    "organizations.yaml": OrganizationsFile,
    "faq.yaml": FaqFile,
}

# pydantic's error types -> our catalog keys (bot/i18n/catalogs/content.yaml).
_ERROR_KEYS = {
    "missing": "missing",
    "extra_forbidden": "extra_forbidden",
    "string_type": "string_type",
    "list_type": "list_type",
    "dict_type": "dict_type",
    "model_type": "dict_type",
    "model_attributes_type": "dict_type",
    "bool_type": "bool",
    "bool_parsing": "bool",
    "date_from_datetime_parsing": "date",
    "date_parsing": "date",
    "date_type": "date",
    "string_pattern_mismatch": "pattern",
}
CUSTOM_PREFIX = "content_"  # PydanticCustomError types raised by bot/content/model.py


@dataclass(frozen=True)
class Item:
    """A list entry in an error's field path: its 1-based number and id, if it has one."""

    number: int
    ident: str | None = None


@dataclass(frozen=True)
class ContentError:
    """One problem: where (file, line, field path) and what, rendered in any language."""

    file: str
    line: int | None
    where: tuple[str | Item, ...]
    key: str
    values: dict[str, Any] = field(default_factory=dict)

    def render(self, lang: str) -> str:
        place = (
            plain("content.place_line", lang, file=self.file, line=self.line)
            if self.line is not None
            else self.file
        )
        message = plain(f"content.error.{self.key}", lang, **self.values)
        parts = [part if isinstance(part, str) else _item_label(part, lang) for part in self.where]
        return f"{place}: {' → '.join(parts)}: {message}" if parts else f"{place}: {message}"

    def __str__(self) -> str:
        return self.render(DEFAULT_LANGUAGE)


def _item_label(item: Item, lang: str) -> str:
    if item.ident:
        return plain("content.item_id", lang, number=item.number, id=item.ident)
    return plain("content.item", lang, number=item.number)


class ContentInvalid(Exception):
    """Raised with every problem found, so an organizer can fix them in one go."""

    def __init__(self, errors: list[ContentError]) -> None:
        self.errors = errors
        super().__init__("\n".join(map(str, errors)))


@dataclass
class _Source:
    name: str
    data: Any
    lines: dict[Path_, int]

    def line(self, path: Path_) -> int | None:
        for cut in range(len(path), -1, -1):
            if path[:cut] in self.lines:
                return self.lines[path[:cut]]
        return None

    def describe(self, path: Path_) -> tuple[str | Item, ...]:
        parts: list[str | Item] = []
        node = self.data
        for part in path:
            if isinstance(part, int):
                ident = node[part].get("id") if _is_item(node, part) else None
                parts.append(Item(part + 1, str(ident) if ident else None))
            else:
                parts.append(str(part))
            node = node[part] if _has(node, part) else None
        return tuple(parts)

    def error(self, path: Path_, key: str, **values: Any) -> ContentError:
        return ContentError(self.name, self.line(path), self.describe(path), key, values)


def _is_item(node: Any, index: int) -> bool:
    return isinstance(node, list) and index < len(node) and isinstance(node[index], dict)


def _has(node: Any, part: str | int) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and part < len(node)


def _line_map(node: yaml.Node, path: Path_, out: dict[Path_, int]) -> None:
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            out[(*path, key.value)] = key.start_mark.line + 1
            _line_map(value, (*path, key.value), out)
            out[(*path, key.value)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _line_map(item, (*path, index), out)


# libyaml's parser when PyYAML was built with it: ten times faster than the pure-Python one.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _parse(text: str) -> tuple[yaml.Node | None, Any]:
    """Parse once: the node tree (for line numbers) and the data built from it."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        return node, loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()


def _read(directory: Path, name: str) -> tuple[_Source | None, list[ContentError]]:
    path = directory / name
    if not path.is_file():
        return None, [ContentError(name, None, (), "not_found", {"directory": str(directory)})]
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        bad_line = path.read_bytes()[: exc.start].count(b"\n") + 1
        return None, [ContentError(name, bad_line, (), "not_utf8")]
    try:
        node, data = _parse(text)
    except yaml.reader.ReaderError as exc:
        bad_line = text[: exc.position].count("\n") + 1
        return None, [
            ContentError(
                name, bad_line, (), "control_character", {"character": repr(exc.character)}
            )
        ]
    except yaml.MarkedYAMLError as exc:
        return None, [explain_syntax_error(name, text, exc)]
    lines: dict[Path_, int] = {}
    if node is not None:
        _line_map(node, (), lines)
    return _Source(name, data if data is not None else {}, lines), []


# -- YAML syntax errors in words -----------------------------------------------------------------
# The parser notices a mistake where it can no longer go on, often lines after it was made (an
# unclosed quote swallows the lines below it) and in its own jargon ("mapping values are not
# allowed in this context"). The lines up to that point are read again to name the mistake an
# organizer made, on the line where they made it.

_KEY = re.compile(r"""^(?:- +)*(?:[^\s#'"][^#]*?|"[^"]*"|'[^']*'):(?: +|$)""")
_NO_SPACE_AFTER_KEY = re.compile(r"^\s*(?:- )?[\w-]+:[^\s/]")  # "start:09:30", not a URL
_BLOCK_SCALAR = re.compile(r"^[|>][-+0-9]*\s*(?:#.*)?$")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _value_start(line: str) -> int:
    """Where the value of `key: value` or `- value` begins on this line."""
    body = line.lstrip(" ")
    start = len(line) - len(body)
    match = _KEY.match(body)
    if match:
        return start + match.end()
    while body.startswith("- ") or body == "-":
        body, start = body[2:], start + 2
        stripped = body.lstrip(" ")
        start += len(body) - len(stripped)
        body = stripped
    return start


def _close_quote(line: str, start: int, quote: str) -> int | None:
    """The index of the quote closing one opened before `start`, or None on this line."""
    index = start
    while index < len(line):
        char = line[index]
        if quote == '"' and char == "\\":
            index += 2
            continue
        if char == quote:
            if quote == "'" and line[index + 1 : index + 2] == "'":
                index += 2  # '' is a quote inside single quotes
                continue
            return index
        index += 1
    return None


def _after_quote_is_clean(rest: str) -> bool:
    rest = rest.strip()
    return not rest or rest.startswith("#") or rest[0] in ",]}:"


def _quote_mistake(lines: list[str], last: int) -> tuple[int, str] | None:
    """The first quote, up to line `last` (0-based), never closed or with text after it."""
    opened: tuple[int, str] | None = None  # (line, quote) of a quote still open
    block_indent: int | None = None  # inside a `>-` / `|` text block: its key's indent
    for number, line in enumerate(lines[: last + 1]):
        if opened is not None:
            close = _close_quote(line, 0, opened[1])
            if close is None:
                continue
            if not _after_quote_is_clean(line[close + 1 :]):
                return opened[0], "yaml_quote_unclosed"
            opened = None
            continue
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if block_indent is not None:
            if _indent(line) > block_indent:
                continue
            block_indent = None
        start = _value_start(line)
        value = line[start:]
        if _BLOCK_SCALAR.match(value):
            block_indent = _indent(line)
            continue
        if value[:1] not in {'"', "'"}:
            continue
        close = _close_quote(line, start + 1, value[0])
        if close is None:
            opened = (number, value[0])
        elif not _after_quote_is_clean(line[close + 1 :]):
            return number, "yaml_text_after_quote"
    return (opened[0], "yaml_quote_unclosed") if opened is not None else None


def explain_syntax_error(name: str, text: str, exc: yaml.MarkedYAMLError) -> ContentError:
    """A YAML syntax error as an organizer would put it, on the line of the mistake."""
    lines = text.splitlines()
    mark = exc.problem_mark or exc.context_mark
    last = min(mark.line, len(lines) - 1) if mark else len(lines) - 1
    problem = str(exc.problem or "")
    context = str(exc.context or "")

    def error(line: int, key: str, **values: Any) -> ContentError:
        return ContentError(name, line + 1, (), key, values)

    for number, line in enumerate(lines[: last + 1]):
        if "\t" in line[: _indent(line) + 1]:
            return error(number, "yaml_tab")
    found = _quote_mistake(lines, last)
    if found is not None:
        return error(*found)
    if "flow" in context and exc.context_mark is not None:
        return error(exc.context_mark.line, "yaml_bracket_unclosed")
    if mark is None or not lines:
        return ContentError(name, None, (), "yaml_syntax", {"problem": problem})
    line = lines[last]
    previous = next((n for n in range(last - 1, -1, -1) if lines[n].strip()), None)
    if "mapping values are not allowed" in problem or "expected ':'" in problem:
        value = line[_value_start(line) :]
        if "mapping values" in problem and (": " in value or value.rstrip().endswith(":")):
            return error(last, "yaml_colon_in_text")
        for candidate in (previous, last):
            if candidate is not None and _NO_SPACE_AFTER_KEY.match(lines[candidate]):
                return error(candidate, "yaml_colon_space")
        return error(last, "yaml_indentation")
    if any(word in problem for word in ("expected key", "'-' indicator", "block end")):
        return error(last, "yaml_indentation")
    return error(last, "yaml_syntax", problem=problem)


def _as_content_error(source: _Source, error: Any) -> ContentError:
    # Drop pydantic's internal steps (RootModel "root", validator functions).
    path = tuple(p for p in error["loc"] if p != "root" and not str(p).startswith("function"))
    kind = str(error["type"])
    if kind.startswith(CUSTOM_PREFIX):
        return source.error(path, kind.removeprefix(CUSTOM_PREFIX), **(error.get("ctx") or {}))
    if kind in _ERROR_KEYS:
        return source.error(path, _ERROR_KEYS[kind])
    return source.error(path, "invalid", message=str(error["msg"]))


def _validate(source: _Source) -> tuple[BaseModel | None, list[ContentError]]:
    model = FILES[source.name]
    try:
        return model.model_validate(source.data), []
    except ValidationError as exc:
        return None, [_as_content_error(source, error) for error in exc.errors()]


def _cross_check(parsed: dict[str, Any], sources: dict[str, _Source]) -> list[ContentError]:
    """What one file cannot know alone: unique ids, hosts and references that exist."""
    errors: list[ContentError] = []
    sessions = parsed["programme.yaml"].sessions
    organizations = parsed["organizations.yaml"].organizations

    def add(name: str, path: Path_, key: str, **values: Any) -> None:
        errors.append(sources[name].error(path, key, **values))

    def unique(name: str, key: str, items: list[Any]) -> None:
        seen: set[str] = set()
        for index, item in enumerate(items):
            if item.id in seen:
                add(name, (key, index, "id"), "duplicate_id", id=item.id)
            seen.add(item.id)

    unique("programme.yaml", "sessions", sessions)
    unique("organizations.yaml", "organizations", organizations)
    unique("faq.yaml", "faqs", parsed["faq.yaml"].faqs)
    unique("event.yaml", "proposal_formats", parsed["event.yaml"].proposal_formats)
    known_orgs = {o.id for o in organizations}
    known = known_orgs | {s.id for s in sessions}
    for index, session in enumerate(sessions):
        if session.host and session.host not in known_orgs:
            add(
                "programme.yaml",
                ("sessions", index, "host"),
                "unknown_host",
                host=session.host,
                known=", ".join(sorted(known_orgs)),
            )
    for index, faq in enumerate(parsed["faq.yaml"].faqs):
        for pos, ref in enumerate(faq.related):
            if ref not in known:
                add("faq.yaml", ("faqs", index, "related", pos), "unknown_related", ref=ref)
    return errors


def load_content(directory: Path) -> Content:
    """Load and validate the content folder; raise ContentInvalid with every problem found."""
    if not directory.is_dir():  # run from elsewhere: one problem, not one per file
        absolute = {"absolute": str(directory.resolve())}
        raise ContentInvalid([ContentError(str(directory), None, (), "no_folder", absolute)])
    errors: list[ContentError] = []
    sources: dict[str, _Source] = {}
    parsed: dict[str, Any] = {}
    for name in FILES:
        source, read_errors = _read(directory, name)
        errors += read_errors
        if source is None:
            continue
        sources[name] = source
        model, model_errors = _validate(source)
        errors += model_errors
        parsed[name] = model
    errors = errors or _cross_check(parsed, sources)
    if errors:
        raise ContentInvalid(errors)
    event, programme = parsed["event.yaml"], parsed["programme.yaml"]
    content = Content(
        event=event.event,
        proposal_formats=event.proposal_formats,
        draft=programme.draft,
        draft_note=programme.draft_note,
        sessions=programme.sessions,
        organizations=parsed["organizations.yaml"].organizations,
        faqs=parsed["faq.yaml"].faqs,
    )
    errors = _check_truth(content, sources["faq.yaml"])
    if errors:
        raise ContentInvalid(errors)
    return content


def _check_truth(content: Content, faq_source: _Source) -> list[ContentError]:
    """A FAQ whose fixed text says the date, venue or speakers are "not announced": false
    once they are set (it contradicts the field), and bound to go stale until then."""
    errors = []
    for index, faq in enumerate(content.faqs):
        for fact, is_set in stale_fields(content, faq):
            key = "faq_contradicts_field" if is_set else "faq_fixed_field"
            errors.append(faq_source.error(("faqs", index, "answer"), key, field=fact.value))
    return errors
