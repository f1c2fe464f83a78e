"""check-content in words an organizer understands, on the line of the mistake; times as
people write them."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from bot.content import ContentInvalid, load_content
from main import main
from tests.conftest import CONTENT_DIR

JARGON = ("mapping values", "block end", "expected key", "scalar", "<", "while parsing")


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, target)
    return target


def errors_for(directory: Path) -> list[str]:
    with pytest.raises(ContentInvalid) as caught:
        load_content(directory)
    return [str(error) for error in caught.value.errors]


def change_line(path: Path, needle: str, new: str) -> int:
    """Replace the first line containing `needle` by `new`; return its number."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    number = next(n for n, line in enumerate(lines) if needle in line)
    lines[number] = new + "\n"
    path.write_text("".join(lines), encoding="utf-8")
    return number + 1


@pytest.mark.parametrize(
    ("file", "needle", "new", "expected"),
    [
        # An unclosed quote: the parser stumbles lines later, we name the line it opened on.
        (
            "programme.yaml",
            'title:\n      en: "Coffee',
            '      en: "Coffee by the water',
            "a quote opened here is never closed",
        ),
        (
            "organizations.yaml",
            'name: "North School"',
            "    name: 'North School",
            "a quote opened here is never closed",
        ),
        (
            "faq.yaml",
            '"what is the event about"',
            '      - "what is the event" about',
            "there is text after the closing quote",
        ),
        (
            "event.yaml",
            'series: "Riverside Sessions"',
            "  series: Riverside Sessions: the series",
            'a colon followed by a space (": "): put the whole text in double quotes',
        ),
        (
            "programme.yaml",
            "kind: break",
            "     kind: break",
            "this line is not indented like the lines above it",
        ),
        (
            "programme.yaml",
            "kind: closing",
            "\tkind: closing",
            "indented with a tab",
        ),
        (
            "organizations.yaml",
            "role: side_event_organizer",
            "    role:side_event_organizer",
            'must be followed by a space, like "start: 09:30"',
        ),
    ],
)
def test_yaml_mistakes_are_named_on_their_line(
    content_copy: Path, file: str, needle: str, new: str, expected: str
) -> None:
    path = content_copy / file
    if "\n" in needle:  # a needle spanning two lines: change the second
        text = path.read_text(encoding="utf-8")
        first = needle.split("\n")[0]
        at = text.index(needle) + len(first) + 1
        line = text[:at].count("\n") + 1
        end = text.index("\n", at)
        path.write_text(text[:at] + new + text[end:], encoding="utf-8")
    else:
        line = change_line(path, needle, new)
    (error,) = errors_for(content_copy)
    assert error.startswith(f"{file}, line {line}: "), error
    assert expected in error
    assert not any(word in error for word in JARGON), error


def test_an_unclosed_quote_deep_in_a_file(content_copy: Path) -> None:
    """The issue's example: an organizer sees "line 151: a quote opened here is never closed"."""
    path = content_copy / "faq.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    number = next(n for n in range(150, len(lines)) if lines[n].strip().startswith('- "'))
    lines[number] = lines[number].rstrip().rstrip('"') + "\n"
    path.write_text("".join(lines), encoding="utf-8")
    (error,) = errors_for(content_copy)
    assert error.startswith(f"faq.yaml, line {number + 1}: a quote opened here is never closed")


def test_the_message_is_in_the_organizer_language(content_copy: Path) -> None:
    change_line(
        content_copy / "event.yaml", 'series: "Riverside Sessions"', '  series: "Riverside'
    )
    with pytest.raises(ContentInvalid) as caught:
        load_content(content_copy)
    (error,) = caught.value.errors
    assert "nunca" in error.render("es") and "mai" in error.render("ca")


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ('"9:30"', dt.time(9, 30)),
        ("9:30", dt.time(9, 30)),  # unquoted: YAML's sexagesimal 570
        ('"09.30"', dt.time(9, 30)),
        ("09.30", dt.time(9, 30)),  # unquoted: the number 9.3
        ("9.05", dt.time(9, 5)),
        ('"9h30"', dt.time(9, 30)),
        ("09:30", dt.time(9, 30)),
    ],
)
def test_times_as_people_write_them_are_normalized(
    content_copy: Path, written: str, read: dt.time
) -> None:
    path = content_copy / "programme.yaml"
    change_line(path, 'start: "09:30"', f"    start: {written}")
    session = load_content(content_copy).session("panel-fibre")
    assert session is not None and session.start == read


@pytest.mark.parametrize("written", ['"9.75"', "9.755", '"930"', '"nine"', '"25:00"'])
def test_other_times_are_refused_with_a_hint(content_copy: Path, written: str) -> None:
    path = content_copy / "programme.yaml"
    line = change_line(path, 'start: "09:30"', f"    start: {written}")
    (error,) = errors_for(content_copy)
    assert error.startswith(f"programme.yaml, line {line}: sessions → item 2")
    assert 'write it as HH:MM between quotes, for example "09:30"' in error


def test_a_session_ending_when_it_starts(content_copy: Path) -> None:
    path = content_copy / "programme.yaml"
    change_line(path, 'end: "10:30"', '    end: "09:30"')
    errors = errors_for(content_copy)
    assert any("starts and ends at the same time (09:30)" in e for e in errors), errors
    assert not any("before it starts" in e for e in errors)


def test_check_content_says_it_in_words(
    content_copy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    line = change_line(
        content_copy / "event.yaml", 'series: "Riverside Sessions"', '  series: "Riverside'
    )
    monkeypatch.setenv("CONTENT_DIR", str(content_copy))
    assert main(["check-content"]) == 1
    err = capsys.readouterr().err
    assert f"event.yaml, line {line}: a quote opened here is never closed" in err
    assert "Problems in the content" in err and ": 1." in err
