"""The layers' arrows run one way (docs/ARCHITECTURE.md):

    main.py -> handlers/ (the Telegram adapter) -> bot/ (the event assistant, no Telegram)
    devtools/ (the local Bot API stand-in, the terminal chat) -> handlers/, bot/

Every import statement of every module is read (also those inside functions), so a shortcut
taken anywhere fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# package -> the top-level modules it must never import
FORBIDDEN = {
    "bot": ("telegram", "handlers", "devtools", "main"),
    "handlers": ("devtools", "main"),
}


def imported_modules(path: Path, package: str | None = None) -> list[tuple[int, str]]:
    """(line, module) for every import in the file, relative imports made absolute."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    if package is None:
        package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.append((node.lineno, module))
    return found


def modules_of(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_from_the_layers_above_it(package: str) -> None:
    offending = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in modules_of(package)
        for line, module in imported_modules(path)
        if module.split(".")[0] in FORBIDDEN[package]
    ]
    assert not offending, "\n".join(offending)


def test_no_private_python_telegram_bot_module_is_imported() -> None:
    offending = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for package in ("bot", "handlers", "devtools")
        for path in modules_of(package)
        for line, module in imported_modules(path)
        if module.startswith("telegram.") and any(p.startswith("_") for p in module.split("."))
    ]
    assert not offending, "\n".join(offending)


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    """The scan itself works: nested and relative imports are found."""
    sample = tmp_path / "probe.py"
    sample.write_text(
        "import os\n"
        "def f():\n    from telegram.ext import Application\n"
        "from ..handlers import app\n",
        encoding="utf-8",
    )
    found = imported_modules(sample, package="bot.content")
    assert (3, "telegram.ext") in found
    assert (4, "bot.handlers") in found  # `..` from bot.content is bot
