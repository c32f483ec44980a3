"""The benchmark runner starts and knows its measurements (no benchmark runs in `make test`)."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MEASUREMENTS = ["rate_limited_import", "seed_baseline", "unthrottled_import", "resync_unchanged", "memory",
                "backfill_overhead", "sandbox_throughput", "long_run", "catalog_ids_load",
                "catalog_gap_fill", "rederive"]


def _benchmarks(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "benchmarks", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120)


def test_runner_lists_every_measurement_of_the_issue():
    result = _benchmarks("--list")
    assert result.returncode == 0, result.stderr
    listed = [line.split()[0] for line in result.stdout.splitlines() if line.strip()]
    assert listed == MEASUREMENTS


def test_unknown_measurement_is_refused_with_the_way_to_see_the_names():
    result = _benchmarks("--only", "warp_speed", "--quick")
    assert result.returncode != 0
    assert "warp_speed" in result.stderr and "--list" in result.stderr


def benchmark_imports_of_tests(root: Path) -> list[str]:
    """Modules under benchmarks/ that import the test package (found with ast, so a function-level
    import counts too)."""
    import ast

    found = []
    for path in sorted((root / "benchmarks").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(name.split(".")[0] == "cinegraph_assets_tests" for name in names):
                found.append(str(path.relative_to(root)))
    return sorted(set(found))


def test_benchmarks_import_nothing_of_the_tests():
    """The benchmarks run from a checkout without the test package: what both use lives in the
    package (the sandbox launcher) or in benchmarks/ (throwaway databases, the long-run world)."""
    assert benchmark_imports_of_tests(REPO) == []
