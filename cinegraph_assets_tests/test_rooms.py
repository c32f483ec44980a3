"""The walls between the rooms, read from the code with `ast` (an import inside a function counts).

Imports run downward only: the modules shared by every room (asset keys, run history, the clock,
partitions, resources, settings) import no room, and the service rooms and reporting never import
automation/, which only decides when to run what. (The warehouse's own wall has its own test.)
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "cinegraph_assets"
ROOMS = ("tmdb", "omdb", "oscars", "automation", "reporting", "sandbox", "production")
SHARED = ("asset_keys", "clock", "instance_history", "partitions", "resources", "settings", "upstream")


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def offenders(files: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    """`file: module` for each import of a module or room of cinegraph_assets named in `forbidden`."""
    return sorted(f"{path.relative_to(PACKAGE)}: {module}"
                  for path in files for module in imported_modules(path)
                  if module.startswith("cinegraph_assets.") and module.split(".")[1] in forbidden)


def test_the_shared_modules_import_no_room():
    assert offenders([PACKAGE / f"{name}.py" for name in SHARED], ROOMS) == []


def test_the_service_rooms_and_reporting_never_import_automation():
    files = [path for room in ("tmdb", "omdb", "oscars", "reporting")
             for path in sorted((PACKAGE / room).rglob("*.py"))]
    assert offenders(files, ("automation",)) == []
