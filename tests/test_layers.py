"""The layers' arrows run one way (docs/ARCHITECTURE.md):

    main.py -> handlers/ (the Telegram adapter) -> bot/ (the event assistant, no Telegram)
    devtools/ (the local Bot API stand-in, the terminal chat) -> handlers/, bot/

and in handlers/ the areas stand side by side: none imports another; only routes.py (which
says which area takes free text, media, /start <argument>, /cancel) and app.py (which
registers every handler) import them.

Every import statement of every module is read (also those inside functions), so a shortcut
taken anywhere fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from telegram.ext import BaseHandler

from handlers.app import handlers_in_order
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parent.parent

# package -> the top-level modules it must never import
FORBIDDEN = {
    "bot": ("telegram", "handlers", "devtools", "main"),
    "handlers": ("devtools", "main"),
}


def imported_modules(path: Path, package: str | None = None) -> list[tuple[int, str]]:
    """(line, module) for every import in the file, relative imports made absolute."""
    return [(line, module) for line, module, _ in _imports(path, package)]


def imported_names(path: Path, package: str | None = None) -> list[tuple[int, str]]:
    """Like `imported_modules`, with each name of a `from X import a, b` as X.a and X.b too
    (`from handlers import ask` imports the module handlers.ask)."""
    found: list[tuple[int, str]] = []
    for line, module, names in _imports(path, package):
        found.append((line, module))
        found.extend((line, f"{module}.{name}") for name in names)
    return found


def _imports(path: Path, package: str | None) -> list[tuple[int, str, list[str]]]:
    """(line, module, the names taken from it) for every import, in the order of the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    if package is None:
        package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found: list[tuple[int, str, list[str]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.append((node.lineno, module, [alias.name for alias in node.names]))
    return sorted(found, key=lambda item: item[0])


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


# handlers/: the modules of the areas (their handlers are registered in app.py), and the only
# modules that may import them: app.py registers their handlers, routes.py routes to them,
# runtime.py starts and stops their background parts (the live clock, the senders' progress).
AREAS = frozenset(
    {
        "admin",
        "agenda",
        "ask",
        "browse",
        "errors",
        "live",
        "membership",
        "organize",
        "propose",
        "start",
        "subscription",
    }
)
AREA_IMPORTERS = frozenset({"app", "routes", "runtime"})


def area_imports(path: Path, package: str = "handlers") -> list[str]:
    """The areas of `package` that the module at `path` imports (itself excepted)."""
    found: dict[str, None] = {}
    for line, name in imported_names(path, package):
        parts = name.split(".")
        if parts[0] == package and len(parts) > 1 and parts[1] in AREAS and parts[1] != path.stem:
            found[f"{path.name}:{line} imports {package}.{parts[1]}"] = None
    return list(found)


def test_an_area_imports_no_other_area() -> None:
    """Areas call each other only through routes.py; what they share lives in common.py,
    context.py, callbacks.py and the view modules, which import no area either."""
    offending = [
        problem
        for path in sorted((ROOT / "handlers").glob("*.py"))
        if path.stem not in AREA_IMPORTERS
        for problem in area_imports(path)
    ]
    assert not offending, "\n".join(offending)


def test_every_registered_handler_is_an_area_or_a_route() -> None:
    """A handler of the areas' groups lives in an area (or routes.py): a new area module is
    then under the rule above, not a way around it."""
    first, person, last = -1, 0, 9  # the update's log line and who the person is: not areas
    registered = handlers_in_order(make_settings("sqlite+aiosqlite://"))
    modules: set[str] = set()
    for group, handlers in registered.items():
        if group in (first, person, last):
            continue
        for handler in handlers:
            assert isinstance(handler, BaseHandler)
            modules.add(handler.callback.__module__)
    assert modules <= {f"handlers.{name}" for name in AREAS | {"routes"}}, modules
    assert "handlers.routes" in modules


def test_the_check_sees_an_area_importing_another(tmp_path: Path) -> None:
    """The rule's scan finds every way of writing the import."""
    probe = tmp_path / "browse.py"
    probe.write_text(
        "from handlers import callbacks, views\n"
        "from handlers.agenda import viewer_for\n"
        "def f():\n    from . import start\n"
        "import handlers.ask\n"
        "from handlers.browse import expired\n",  # itself: not another area
        encoding="utf-8",
    )
    assert area_imports(probe) == [
        "browse.py:2 imports handlers.agenda",
        "browse.py:4 imports handlers.start",
        "browse.py:5 imports handlers.ask",
    ]
