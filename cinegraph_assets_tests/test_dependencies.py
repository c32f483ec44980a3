"""pyproject.toml and the imports agree, both ways.

Every declared dependency is imported for a reason (or named below with the file that uses it by
name: a command, a plugin, a storage module), and every third-party package the code imports is
declared, not merely pulled in by something else. The import names are read with `ast`, so an import
inside a function counts as much as one at the top of a module.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# The package ships the main dependencies; the tests, the benchmarks and deploy/ may also use the
# `test` extra.
PACKAGE_ROOTS = ("cinegraph_assets",)
TEST_ROOTS = ("cinegraph_assets_tests", "benchmarks", "deploy")

# Declared but never imported: each is used by name, and the file and text below prove it still is.
USED_BY_NAME = {
    "dagster-webserver": ("cinegraph_assets/cli.py", '"dagster", "dev"'),  # `dagster dev` serves the UI
    # not used by our code: pinned with the webserver so pip cannot pick another release of it
    "dagster-graphql": ("pyproject.toml", "One consistent Dagster set"),
    "dagster-postgres": ("deploy/dagster.yaml", "storage:\n  postgres:"),  # production instance storage
    "pytest-timeout": ("pyproject.toml", "timeout = "),  # the plugin reads [tool.pytest.ini_options]
    "py-spy": ("benchmarks/harness.py", 'shutil.which("py-spy")'),  # `--profile` runs the command
}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> tuple[set[str], set[str]]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]

    def names(specs: list[str]) -> set[str]:
        return {canonical(re.match(r"[A-Za-z0-9._-]+", spec).group(0)) for spec in specs}

    return names(project["dependencies"]), names(project["optional-dependencies"]["test"])


def imported_modules(roots: tuple[str, ...]) -> set[str]:
    """Top-level names of every absolute import under `roots`."""
    modules: set[str] = set()
    for root in roots:
        for path in (REPO / root).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.Import):
                    modules.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules.add(node.module.split(".")[0])
    ours = {path.name for path in REPO.iterdir() if path.is_dir()}
    return modules - set(sys.stdlib_module_names) - ours - {"__future__"}


def distributions_of(modules: set[str]) -> dict[str, set[str]]:
    """Import name -> the installed distributions providing it (empty when none is installed)."""
    providers = packages_distributions()
    return {module: {canonical(d) for d in providers.get(module, [])} for module in modules}


def test_every_third_party_import_is_declared():
    main, test = declared()
    problems = []
    for roots, allowed, where in ((PACKAGE_ROOTS, main, "[project] dependencies"),
                                  (TEST_ROOTS, main | test, "dependencies or the test extra")):
        for module, dists in sorted(distributions_of(imported_modules(roots)).items()):
            if not dists & allowed:
                problems.append(f"{'/'.join(roots)} imports {module!r} "
                                f"(from {', '.join(sorted(dists)) or 'nothing installed'}): "
                                f"declare it in {where} of pyproject.toml")
    assert not problems, "\n".join(problems)


def test_every_declared_dependency_is_imported_or_used_by_name():
    main, test = declared()
    package_dists = set().union(*distributions_of(imported_modules(PACKAGE_ROOTS)).values())
    test_dists = set().union(*distributions_of(imported_modules(PACKAGE_ROOTS + TEST_ROOTS)).values())
    unused = sorted((main - package_dists) | (test - test_dists))
    problems = []
    for dist in unused:
        if dist not in USED_BY_NAME:
            problems.append(f"{dist} is declared in pyproject.toml but nothing imports it: drop it")
            continue
        path, evidence = USED_BY_NAME[dist]
        if evidence not in (REPO / path).read_text():
            problems.append(f"{dist}: {path} no longer uses it by name ({evidence!r}): drop it")
    assert not problems, "\n".join(problems)


def test_used_by_name_lists_only_packages_nothing_imports():
    """An entry here that the code now imports is stale: the import proves its use by itself. A
    [project] dependency is proved only by the platform's imports (a test importing it, as the
    GraphQL checks import dagster-graphql, does not make the platform use it)."""
    main, _ = declared()
    package = set().union(*distributions_of(imported_modules(PACKAGE_ROOTS)).values())
    everything = set().union(*distributions_of(imported_modules(PACKAGE_ROOTS + TEST_ROOTS)).values())
    assert not {dist for dist in USED_BY_NAME if dist in (package if dist in main else everything)}


def test_the_installed_package_is_only_the_platform():
    """setuptools matches `packages.find` include patterns (fnmatch) against dotted package names:
    the tests and benchmarks/ run from the checkout and must not be installed with the platform."""
    from fnmatch import fnmatch

    patterns = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"][
        "find"]["include"]
    packages = {".".join(init.parent.relative_to(REPO).parts) for init in REPO.rglob("__init__.py")
                if ".venv" not in init.parts}
    shipped = {name for name in packages if any(fnmatch(name, pattern) for pattern in patterns)}
    assert "cinegraph_assets.warehouse.migrations" in shipped
    assert sorted(name for name in shipped if name.split(".")[0] != "cinegraph_assets") == []
