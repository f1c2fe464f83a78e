"""Content validation: each kind of mistake is reported readably (on a copy of the tests' own
content; tests/test_shipped_content.py checks the shipped one)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.content import ContentInvalid, load_content
from bot.services import create_services
from main import main
from tests.conftest import CONTENT_DIR, make_settings


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, target)
    return target


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def errors_for(directory: Path) -> list[str]:
    with pytest.raises(ContentInvalid) as caught:
        load_content(directory)
    return [str(error) for error in caught.value.errors]


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def test_wrong_time_names_file_line_and_field(content_copy: Path) -> None:
    path = content_copy / "programme.yaml"
    replace(path, 'start: "09:30"', 'start: "25:00"')
    line = line_of(path, 'start: "25:00"')
    (error,) = errors_for(content_copy)
    assert error.startswith(f"programme.yaml, line {line}: sessions → item 2")
    assert '"25:00"' in error or "'25:00'" in error
    assert "HH:MM" in error


def test_missing_field(content_copy: Path) -> None:
    path = content_copy / "organizations.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("    role: partner\n", "", 1), encoding="utf-8")
    errors = errors_for(content_copy)
    assert any("organizations.yaml" in e and "role" in e and "required" in e for e in errors)


def test_unknown_host(content_copy: Path) -> None:
    replace(content_copy / "programme.yaml", "host: otn", "host: nobody-knows")
    (error,) = errors_for(content_copy)
    assert "programme.yaml, line" in error and "host" in error
    assert '"nobody-knows" is not a known organization' in error
    assert "lumen" in error  # the valid ids are listed to choose from


def test_duplicate_id(content_copy: Path) -> None:
    replace(content_copy / "programme.yaml", "id: panel-fibre", "id: opening")
    errors = errors_for(content_copy)
    assert any(
        'the id "opening" is used twice' in e and "programme.yaml, line" in e for e in errors
    )


def test_end_before_start(content_copy: Path) -> None:
    replace(content_copy / "programme.yaml", 'end: "10:30"', 'end: "09:00"')
    errors = errors_for(content_copy)
    assert any("ends (09:00) before it starts" in e for e in errors)


def test_unknown_field_and_unknown_reference(content_copy: Path) -> None:
    replace(
        content_copy / "organizations.yaml",
        "    role: partner\n",
        "    role: partner\n    colour: red\n",
    )
    errors = errors_for(content_copy)
    assert any("colour" in e and "unknown field" in e for e in errors)


def test_broken_yaml_syntax(content_copy: Path) -> None:
    path = content_copy / "faq.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text + "\n  - id: [unclosed\n", encoding="utf-8")
    (error,) = errors_for(content_copy)
    line = len(text.splitlines()) + 2
    assert error.startswith(f"faq.yaml, line {line}: a bracket")
    assert "never closed" in error


def test_missing_file(content_copy: Path) -> None:
    (content_copy / "event.yaml").unlink()
    (error,) = errors_for(content_copy)
    assert error.startswith("event.yaml: file not found")


def test_check_content_command(
    content_copy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONTENT_DIR", str(CONTENT_DIR))
    assert main(["check-content"]) == 0
    assert "Content is valid" in capsys.readouterr().out
    replace(content_copy / "programme.yaml", 'start: "09:30"', 'start: "9h75"')
    monkeypatch.setenv("CONTENT_DIR", str(content_copy))
    assert main(["check-content"]) == 1
    err = capsys.readouterr().err
    assert "Problems in the content" in err and ": 1." in err and "programme.yaml, line" in err


async def test_bot_refuses_to_start_on_invalid_content(content_copy: Path, tmp_path: Path) -> None:
    replace(content_copy / "programme.yaml", "host: otn", "host: nobody")
    settings = make_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}", CONTENT_DIR=str(content_copy)
    )
    with pytest.raises(ContentInvalid):
        await create_services(settings)


def test_file_not_saved_as_utf8(content_copy: Path) -> None:
    path = content_copy / "faq.yaml"
    path.write_bytes(path.read_text(encoding="utf-8").encode("latin-1", errors="replace"))
    (error,) = errors_for(content_copy)
    assert error.startswith("faq.yaml, line ") and "UTF-8" in error


def test_control_character(content_copy: Path) -> None:
    path = content_copy / "event.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\n# \x00\n", encoding="utf-8")
    (error,) = errors_for(content_copy)
    assert error.startswith("event.yaml, line ") and "remove it" in error


def test_empty_faq_file_is_refused(content_copy: Path) -> None:
    (content_copy / "faq.yaml").write_text("", encoding="utf-8")
    (error,) = errors_for(content_copy)
    assert error.startswith("faq.yaml") and "faqs" in error and "required" in error


def test_errors_are_given_in_the_organizer_language(content_copy: Path) -> None:
    replace(content_copy / "programme.yaml", 'start: "09:30"', 'start: "25:00"')
    with pytest.raises(ContentInvalid) as caught:
        load_content(content_copy)
    (error,) = caught.value.errors
    assert "línea" in error.render("es") and "no es una hora válida" in error.render("es")
    assert "línia" in error.render("ca") and "element 2" in error.render("ca")
